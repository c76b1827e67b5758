// `npm start`: validate configuration, build when the sources changed, then serve. Receiver paths
// (`POST /api/webhooks/<source>`, every source) are answered by our own node:http entry through the
// same receiver stack the route handler uses, without Next's request pipeline, which alone caps
// throughput below the plain-Express reference (BENCHMARKS.md); everything else goes to Next. Plain
// `next start` still works: the route handler calls the same stack.
//
// package.json runs this file with `exec node …`, so the process npm starts and signals is this one
// (no shell or loader process in between that would die on SIGTERM and leave the server running).
import { createServer, type Server } from 'node:http';
import { ensureBuild } from './ensure-build';
import { armStopDeadline } from './stop-deadline';

// Like `next start`: production React, secure cookies, and the production configuration rules.
// Next's telemetry notice is off unless asked for (NEXT_TELEMETRY_DISABLED=0 turns it back on).
// (Next's types make NODE_ENV read-only, hence Object.assign.)
Object.assign(process.env, {
  NODE_ENV: process.env.NODE_ENV ?? 'production',
  NEXT_TELEMETRY_DISABLED: process.env.NEXT_TELEMETRY_DISABLED ?? '1',
});

let env: typeof import('@/lib/env').env;
try {
  ({ env } = await import('@/lib/env'));
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}

// Signals are handled from here on, so a supervisor's stop during the build or the database's start
// is honoured too: the build is stopped, whatever has started is stopped, and the process exits.
const starting = new AbortController();
let server: Server | undefined;
let shutdown: Promise<void> | undefined;
// The start-up step in progress: a stop waits for it, then stops what it started.
let step: Promise<unknown> = Promise.resolve();
let stopApp: () => Promise<void> = async () => {};
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (shutdown) return;
    console.log(`${signal}: shutting down (no new connections, draining)`);
    starting.abort();
    shutdown = drain().finally(() => process.exit(0));
    armStopDeadline();
  });
}

async function drain() {
  await step.catch(() => {});
  if (server?.listening) {
    // Stop accepting, let in-flight requests finish (bounded), then stop the worker and flush writes.
    const s = server;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    s.closeIdleConnections();
    const force = setTimeout(() => s.closeAllConnections(), 10_000).unref();
    await closed;
    clearTimeout(force);
  }
  await stopApp();
}

if (!(await ensureBuild(process.cwd(), starting.signal))) await new Promise(() => {});

const { default: next } = await import('next');
const { log } = await import('@/lib/log');
const { fromIncoming, sendNode } = await import('@/lib/receiver/node-request');
const { webhookSlug } = await import('@/lib/receiver/stack');
const { runtime, startInProcess, stopInProcess } = await import('@/lib/runtime');
const { PEER_HEADER, markPeerHeaderTrusted } = await import('@/lib/api/client-ip');
const { closeDb } = await import('@/lib/db');
const { PgliteFolderInUseError } = await import('@/db/pglite-folder');

stopApp = async () => {
  await stopInProcess();
  await closeDb();
};
try {
  await (step = startInProcess({ handleSignals: false }));
} catch (err) {
  if (!(err instanceof PgliteFolderInUseError)) throw err;
  console.error(err.message);
  process.exit(1);
}
if (shutdown) await new Promise(() => {});
const app = next({ dev: false, dir: process.cwd(), port: env.PORT });
const handle = app.getRequestHandler();
await (step = app.prepare());
stopApp = async () => {
  await stopInProcess();
  await app.close?.();
  await closeDb();
};

server = createServer((req, res) => {
  const startedAt = performance.now();
  const slug = req.method === 'POST' && req.url ? webhookSlug(req.url) : null;
  if (slug !== null) {
    runtime()
      .receiver.handle(slug, fromIncoming(req, startedAt, env.TRUST_PROXY))
      .then((r) => sendNode(res, r, r.bodyUnread === true))
      .catch((err: unknown) => {
        log.error({ err }, 'receiver: no answer could be sent');
        res.destroy();
      });
    return;
  }
  // Route handlers cannot see the socket: pass its address on, replacing anything a client sent.
  for (let i = req.rawHeaders.length - 2; i >= 0; i -= 2) {
    if (req.rawHeaders[i]!.toLowerCase() === PEER_HEADER) req.rawHeaders.splice(i, 2);
  }
  req.headers[PEER_HEADER] = req.socket.remoteAddress ?? '';
  void handle(req, res);
});
markPeerHeaderTrusted();
// A body that never finishes must not hold a socket forever; SkyLight itself gives up after 30 s.
server.requestTimeout = 30_000;
server.headersTimeout = 10_000;
server.keepAliveTimeout = 5_000;
server.on('error', (err: NodeJS.ErrnoException) => {
  console.error(
    err.code === 'EADDRINUSE'
      ? `Port ${env.PORT} is already in use: stop the other server or set PORT to a free port.`
      : `Cannot listen on port ${env.PORT}: ${err.message}`,
  );
  void stopApp().finally(() => process.exit(1));
});
if (!shutdown) server.listen(env.PORT, () => log.info({ port: env.PORT }, 'listening'));
