// Runs node's test runner over the project's *.test.ts files (Node 20 has no glob for --test).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ensureAppBuilt } from '../test/helpers/app-process';

const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['lib', 'db', 'test'];
// Fault tests start app processes against Postgres: they run only when their folder is named.
const skip = new Set(['node_modules', '.next', '.data', 'e2e', 'faults']);

function walk(dir: string, out: string[]) {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (skip.has(e.name)) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.test.ts')) out.push(p);
  }
}

const files: string[] = [];
for (const r of roots) {
  if (r.endsWith('.ts')) files.push(r);
  else walk(r, files);
}
if (files.length === 0) {
  console.error(`no test files under ${roots.join(', ')}`);
  process.exit(1);
}
// Files that serve the built app (in-process, or as `npm start` children) need a current build, which
// takes minutes on two cores. It is made while the other files run, under the lock those files'
// helpers take (ensureAppBuilt): one that starts before the build is done waits for it, and never
// starts a second build into the same .next. They run last, so they rarely wait.
const served = new Set(
  files.filter((f) => /\.\/helpers\/(next-app|app-process)'/.test(readFileSync(f, 'utf8'))),
);
const ordered = [...files.filter((f) => !served.has(f)).sort(), ...[...served].sort()];
const built = served.size > 0 ? ensureAppBuilt() : Promise.resolve();

const runner = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=3', '--test-timeout=120000', ...ordered],
  { stdio: 'inherit', env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' } },
);
// ensureBuild exits this process when the build fails: the runner must not outlive it.
process.once('exit', () => runner.kill());
const [status] = await Promise.all([
  new Promise<number>((resolve) => runner.once('exit', (code) => resolve(code ?? 1))),
  built,
]);
process.exit(status);
