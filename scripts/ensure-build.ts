import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

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

/**
 * Runs `next build` when there is no build or a source file is newer than it. Exits on failure.
 * Aborting `signal` stops the build (a supervisor stopping the app during its first start must not
 * leave a `next build` running on its own) and resolves false.
 */
export async function ensureBuild(root = process.cwd(), signal?: AbortSignal): Promise<boolean> {
  const buildId = path.join(root, '.next', 'BUILD_ID');
  const built = existsSync(buildId) ? statSync(buildId).mtimeMs : 0;
  if (built > 0 && Math.max(...SOURCES.map((s) => newest(path.join(root, s)))) <= built) return true;
  console.log('Building the app (first start or sources changed)…');
  const b = spawn(process.execPath, [path.join(root, 'node_modules/next/dist/bin/next'), 'build'], {
    stdio: 'inherit',
    cwd: root,
    signal,
  });
  const status = await new Promise<number | null>((resolve) => {
    b.once('error', () => resolve(null));
    b.once('exit', (code) => resolve(code));
  });
  if (signal?.aborted) return false;
  if (status !== 0) process.exit(status ?? 1);
  return true;
}
