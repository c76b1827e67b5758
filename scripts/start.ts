// `npm start`: validate configuration, build when the sources changed, then serve.
import { spawn } from 'node:child_process';
import { ensureBuild } from './ensure-build';

let env: typeof import('@/lib/env').env;
try {
  ({ env } = await import('@/lib/env'));
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}

ensureBuild();

// The app drains its worker and pending writes on SIGTERM/SIGINT itself (lib/runtime.ts), so Next's
// own handler, which exits at once, is switched off; signals sent to this wrapper are passed on.
const child = spawn(process.execPath, ['node_modules/next/dist/bin/next', 'start', '-p', String(env.PORT)], {
  stdio: 'inherit',
  env: { ...process.env, NEXT_MANUAL_SIG_HANDLE: 'true' },
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 15 : 1)));
