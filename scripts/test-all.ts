// `npm test`: unit and database tests on PGlite, the database tests again on Postgres when a server
// is configured, then the end-to-end suite in Chromium beside the short fault tests (Postgres). Exit 0
// only when everything passed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const pg = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
type Step = { name: string; cmd: string[]; env?: Record<string, string | undefined> };
const steps: Step[] = [
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
// The end-to-end and fault groups spend most of their time waiting (a browser, app processes under
// paced load): here about 45 % of one core and 30 % of two. They use their own ports (3100–3102,
// 4510–4598), folders and scratch databases, so they run side by side; their output is printed whole,
// one group after the other, as each finishes.
const last: Step[] = [];
if (process.env.SKIP_E2E !== '1') {
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) {
    console.error(
      `e2e: no Chromium at ${chromium}. Install it (Debian: apt-get install -y chromium) or set CHROMIUM_PATH.`,
    );
    process.exit(1);
  }
  last.push({
    name: 'end-to-end (Chromium)',
    cmd: ['node_modules/@playwright/test/cli.js', 'test', '-c', 'e2e/playwright.config.ts'],
  });
}
if (pg) {
  // Needs the build the PGlite group made (its served files build it) and a Postgres server.
  last.push({
    name: 'fault tests, short (Postgres)',
    cmd: ['test/faults/run.ts', '--short'],
    env: { TEST_DATABASE_URL: pg, DATABASE_URL: '' },
  });
}

function argv(step: Step): string[] {
  return step.cmd[0]!.endsWith('.ts') ? ['--import', 'tsx', ...step.cmd] : step.cmd;
}
const env = (step: Step) => ({ ...process.env, ...step.env });

// One of them alone runs as the others do, its output as it comes.
if (last.length === 1) steps.push(last.pop()!);
const failed: string[] = [];
for (const step of steps) {
  console.log(`\n=== ${step.name}`);
  const r = spawnSync(process.execPath, argv(step), { stdio: 'inherit', env: env(step) });
  if (r.status !== 0) failed.push(step.name);
}
if (last.length > 1) {
  console.log(`\n=== ${last.map((s) => s.name).join(' and ')}, side by side (each printed when it ends)`);
  await Promise.all(
    last.map(
      (step) =>
        new Promise<void>((resolve) => {
          const t0 = Date.now();
          const out: Buffer[] = [];
          const child = spawn(process.execPath, argv(step), {
            env: env(step),
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          child.stdout.on('data', (b: Buffer) => out.push(b));
          child.stderr.on('data', (b: Buffer) => out.push(b));
          child.once('close', (code) => {
            console.log(`\n=== ${step.name} (${Math.round((Date.now() - t0) / 1000)} s)`);
            process.stdout.write(Buffer.concat(out));
            if (code !== 0) failed.push(step.name);
            resolve();
          });
        }),
    ),
  );
}
console.log(failed.length === 0 ? '\nAll test groups passed.' : `\nFailed: ${failed.join(', ')}`);
process.exit(failed.length === 0 ? 0 : 1);
