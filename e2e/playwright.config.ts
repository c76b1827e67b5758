import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from '@playwright/test';
import { API_TOKEN, BASE_URL, DOWNSTREAM_URL, PASSWORD, PORT, SLY_SECRET, WEBHOOK_SECRET } from './env';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// A fresh database per run; the folder name carries the runner's pid so parallel runs never share one.
const pgliteDir = `/tmp/dash-helper-e2e-${process.env.E2E_RUN_ID ?? (process.env.E2E_RUN_ID = String(process.pid))}`;

export default defineConfig({
  testDir: '.',
  outputDir: path.join(root, 'test-results', 'e2e'),
  // One app, one database, tests that change shared state (webhook toggles, downstream outage).
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  timeout: 90_000,
  expect: { timeout: 20_000 },
  reporter: [['list']],
  use: {
    baseURL: BASE_URL,
    viewport: { width: 1280, height: 800 },
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: [
    {
      command: 'npx tsx e2e/downstream.ts',
      url: `${DOWNSTREAM_URL}/health`,
      cwd: root,
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      // `npm start` builds when the sources changed, then serves with the embedded sandbox.
      command: 'npm start',
      url: `${BASE_URL}/api/health`,
      cwd: root,
      reuseExistingServer: false,
      timeout: 400_000,
      stdout: 'pipe',
      env: {
        NODE_ENV: 'production',
        PORT: String(PORT),
        PGLITE_DIR: pgliteDir,
        DASHBOARD_PASSWORD: PASSWORD,
        DASHBOARD_API_TOKEN: API_TOKEN,
        // The tests play one proxy in front of the app: the X-Forwarded-For hop they append is each
        // test's client address (so the login limiter of one test cannot lock out the next), while
        // anything to its left is what a client forged and is ignored (e2e/auth.spec.ts checks both).
        TRUST_PROXY: '1',
        // Sandbox mode (no SKYLIGHT_API_KEY); this extra secret lets the tests sign their own deliveries.
        SKYLIGHT_WEBHOOK_SECRET: WEBHOOK_SECRET,
        // The default Sly source, for the source filter and the sources page.
        SLY_WEBHOOK_SECRET: SLY_SECRET,
        SANDBOX_RATE: '2',
        SANDBOX_TIME_SCALE: '600',
        WORKER_BACKOFF_MS: '200',
        WORKER_MAX_ATTEMPTS: '2',
        NOTIFY_WEBHOOK_URL: `${DOWNSTREAM_URL}/notify`,
        LOG_LEVEL: 'error',
        // Alerts: evaluate every 5 s and resolve after 3 s clear, so a spec watches a whole incident.
        // Each round's watchdog reads the provider's API (webhooks, failed log pages); at 2 s that alone
        // used up the sandbox's rate limit and the Webhooks page answered "rate-limited".
        ALERT_EVAL_INTERVAL_MS: '5000',
        ALERT_RESOLVE_AFTER_MS: '3000',
      },
    },
  ],
});
