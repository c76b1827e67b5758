import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appDir, ensureAppBuilt } from './app-process';
import type { TestDb } from './db';

// The built app served by Next inside the test process, over real HTTP on a free port, on a test
// database the test can also query: the Next bundles reach the database through the process-wide
// handle in db/client.ts (globalThis.__skylightDb), which is set here before Next loads them.

export type NextApp = { url: string; db: TestDb; close(): Promise<void> };

/**
 * Builds the app (this checkout, or FAULTS_APP_DIR's) if its sources changed, sets `env` (lib/env.ts reads it once, at first import, so
 * call this before importing anything that reads it) and serves the app. The sandbox is not started:
 * give SKYLIGHT_API_KEY and SKYLIGHT_API_URL for the provider routes.
 */
export async function startNextApp(env: Record<string, string>): Promise<NextApp> {
  await ensureAppBuilt();
  Object.assign(process.env, {
    NODE_ENV: 'production',
    NEXT_TELEMETRY_DISABLED: '1',
    WORKER_INLINE: 'false',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    ...env,
  });
  const { openTestDb } = await import('./db');
  const db = await openTestDb();
  (globalThis as { __skylightDb?: { handle?: Promise<TestDb> } }).__skylightDb = {
    handle: Promise.resolve(db),
  };
  const { default: next } = await import('next');
  const app = next({ dev: false, dir: appDir() });
  const handle = app.getRequestHandler();
  await app.prepare();
  const server = createServer((req, res) => void handle(req, res));
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    db,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      const { stopInProcess } = await import('@/lib/runtime');
      await stopInProcess();
      await app.close();
      await db.close();
    },
  };
}
