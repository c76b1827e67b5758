// `npm start`: validate configuration, build when the sources changed, then serve.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

let env: typeof import('@/lib/env').env;
try {
  ({ env } = await import('@/lib/env'));
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}

const SOURCES = ['app', 'components', 'lib', 'db', 'instrumentation.ts', 'proxy.ts', 'next.config.ts', 'package-lock.json'];

function newest(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const e of readdirSync(p)) {
    if (e === 'node_modules' || e.endsWith('.test.ts')) continue;
    m = Math.max(m, newest(path.join(p, e)));
  }
  return m;
}

const buildId = path.join('.next', 'BUILD_ID');
const built = existsSync(buildId) ? statSync(buildId).mtimeMs : 0;
if (built === 0 || Math.max(...SOURCES.map(newest)) > built) {
  console.log('Building the app (first start or sources changed)…');
  const b = spawnSync(process.execPath, ['node_modules/next/dist/bin/next', 'build'], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}

const r = spawnSync(process.execPath, ['node_modules/next/dist/bin/next', 'start', '-p', String(env.PORT)], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
