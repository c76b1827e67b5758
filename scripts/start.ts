// `npm start`: validate configuration, build when the sources changed, then serve.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

let env: typeof import('@/lib/env').env;
try {
  ({ env } = await import('@/lib/env'));
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}

const SOURCES = [
  'app',
  'components',
  'lib',
  'db',
  'instrumentation.ts',
  'proxy.ts',
  'next.config.ts',
  'package-lock.json',
];

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

// The app drains its worker and pending writes on SIGTERM/SIGINT itself (lib/runtime.ts), so Next's
// own handler, which exits at once, is switched off; signals sent to this wrapper are passed on.
const child = spawn(process.execPath, ['node_modules/next/dist/bin/next', 'start', '-p', String(env.PORT)], {
  stdio: 'inherit',
  env: { ...process.env, NEXT_MANUAL_SIG_HANDLE: 'true' },
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 15 : 1)));
