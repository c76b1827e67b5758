// Runs node's test runner over the project's *.test.ts files (Node 20 has no glob for --test).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ensureBuild } from './ensure-build';

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
// Files that serve the built app in-process need a current build; a build takes minutes, longer than
// the per-file timeout below, so it is made here, once, before the runner starts.
if (files.some((f) => readFileSync(f, 'utf8').includes('./helpers/next-app'))) ensureBuild();
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=120000', ...files.sort()],
  { stdio: 'inherit', env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' } },
);
process.exit(r.status ?? 1);
