import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PASSWORD, PORT, WEBHOOK_SECRET } from './env';
import { eventStatusOf, expect, inboundMessage, postDelivery, screenshot, test } from './fixtures';

// The demo as a new operator meets it: `npm start` with no settings but a password, so the example
// handlers notify the sandbox's own downstream, which starts in an outage. Its own server: the suite's
// server sends notifications to e2e/downstream.ts instead.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEMO_PORT = PORT + 6;
const DEMO_URL = `http://localhost:${DEMO_PORT}`;

let app: ChildProcess | undefined;
let output = '';
let dir = '';

test.beforeAll(async () => {
  test.setTimeout(180_000);
  dir = mkdtempSync(path.join(tmpdir(), 'e2e-demo-'));
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of ['DATABASE_URL', 'SKYLIGHT_API_KEY', 'NOTIFY_WEBHOOK_URL', 'NODE_OPTIONS']) delete env[k];
  Object.assign(env, {
    NODE_ENV: 'production',
    PORT: String(DEMO_PORT),
    PGLITE_DIR: path.join(dir, 'pglite'),
    DASHBOARD_PASSWORD: PASSWORD,
    SKYLIGHT_WEBHOOK_SECRET: WEBHOOK_SECRET,
    SANDBOX_RATE: '1',
    SANDBOX_TIME_SCALE: '600',
    WORKER_BACKOFF_MS: '200',
    WORKER_MAX_ATTEMPTS: '2',
    LOG_LEVEL: 'error',
  });
  app = spawn('npm', ['start'], {
    cwd: root,
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  app.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  app.stderr?.on('data', (b: Buffer) => (output += b.toString()));
  await expect
    .poll(
      async () => {
        try {
          return (await fetch(`${DEMO_URL}/api/health`)).status;
        } catch {
          return 0;
        }
      },
      { timeout: 150_000, message: `the demo app did not start: ${output.slice(-2000)}` },
    )
    .toBe(200);
});

test.afterAll(async () => {
  if (app && app.exitCode === null) {
    const exited = new Promise((r) => app!.once('exit', r));
    app.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the demo: an outage dead-letters transient events; end it and a retry saves them', async ({
  browser,
}) => {
  const context = await browser.newContext({ baseURL: DEMO_URL });
  const page = await context.newPage();
  const login = await page.request.post('/api/auth/login', {
    data: { password: PASSWORD },
    headers: { Origin: DEMO_URL },
  });
  expect(login.status()).toBe(200);

  await page.goto('/dlq');
  const banner = page.getByRole('region', { name: 'Sandbox downstream' });
  await expect(banner).toContainText('the downstream is down');

  const saved = [
    await postDelivery(page.request, inboundMessage('demo outage 1')),
    await postDelivery(page.request, inboundMessage('demo outage 2')),
  ];
  const broken = await postDelivery(page.request, {
    event: 'message.received',
    data: { message: { id: 'not-a-number' } },
  });
  for (const id of [...saved, broken]) {
    await expect.poll(() => eventStatusOf(page.request, id), { timeout: 30_000 }).toBe('dead');
  }

  await page.reload();
  const table = page.getByRole('table', { name: 'Dead letters' });
  for (const id of saved) {
    await expect(
      table.getByRole('row').filter({ hasText: id }).getByText('transient', { exact: true }),
    ).toBeVisible();
  }
  await expect(
    table.getByRole('row').filter({ hasText: broken }).getByText('permanent', { exact: true }),
  ).toBeVisible();
  await screenshot(page, 'demo-outage-dlq');

  await banner.getByRole('button', { name: 'End the outage' }).click();
  await expect(banner).toContainText('the downstream is up');

  // The bulk-retry dialog says what a retry can do for each class; retry the transient ones.
  await page.getByLabel('Failure').selectOption('transient');
  await expect(table.getByText(broken)).toHaveCount(0);
  await page.getByRole('button', { name: 'Retry all matching…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Retry all matching dead letters?' });
  const byFailure = dialog.getByRole('list', { name: 'By failure' });
  await expect(byFailure).toContainText(/[1-9]\d* transient/);
  await expect(byFailure).toContainText('0 permanent');
  await screenshot(page, 'demo-outage-retry');
  await dialog.getByRole('button', { name: 'Retry' }).click();
  for (const id of saved) {
    await expect.poll(() => eventStatusOf(page.request, id), { timeout: 30_000 }).toBe('processed');
  }
  expect(await eventStatusOf(page.request, broken)).toBe('dead');
  await context.close();
});
