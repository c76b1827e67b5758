// `npm test`: unit and database tests on PGlite, the database tests again on Postgres when a server
// is configured, then the end-to-end suite in Chromium. Exit 0 only when everything passed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const pg = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
const steps: Array<{ name: string; cmd: string[]; env?: Record<string, string | undefined> }> = [
  {
    name: 'unit + database tests (PGlite)',
    cmd: ['scripts/test.ts', 'lib', 'db', 'test'],
    env: { TEST_DATABASE_URL: '', DATABASE_URL: '' },
  },
];
if (pg) {
  steps.push({
    name: 'database tests (Postgres)',
    cmd: ['scripts/test.ts', 'test'],
    env: { TEST_DATABASE_URL: pg, DATABASE_URL: '' },
  });
} else {
  console.log(
    'No TEST_DATABASE_URL or DATABASE_URL: the Postgres run is skipped (PGlite covers the same tests).',
  );
}
if (process.env.SKIP_E2E !== '1') {
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) {
    console.error(
      `e2e: no Chromium at ${chromium}. Install it (Debian: apt-get install -y chromium) or set CHROMIUM_PATH.`,
    );
    process.exit(1);
  }
  steps.push({
    name: 'end-to-end (Chromium)',
    cmd: ['node_modules/@playwright/test/cli.js', 'test', '-c', 'e2e/playwright.config.ts'],
  });
}

if (pg) {
  // Needs the build the e2e step made (or makes one) and a Postgres server for scratch databases.
  steps.push({
    name: 'fault tests, short (Postgres)',
    cmd: ['test/faults/run.ts', '--short'],
    env: { TEST_DATABASE_URL: pg, DATABASE_URL: '' },
  });
}

const failed: string[] = [];
for (const step of steps) {
  console.log(`\n=== ${step.name}`);
  const useTsx = step.cmd[0]!.endsWith('.ts');
  const r = spawnSync(process.execPath, useTsx ? ['--import', 'tsx', ...step.cmd] : step.cmd, {
    stdio: 'inherit',
    env: { ...process.env, ...step.env },
  });
  if (r.status !== 0) failed.push(step.name);
}
console.log(failed.length === 0 ? '\nAll test groups passed.' : `\nFailed: ${failed.join(', ')}`);
process.exit(failed.length === 0 ? 0 : 1);
