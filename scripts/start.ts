// `npm start`: validate configuration, build when the sources changed, then serve. Receiver paths
// (`POST /api/webhooks/<source>`, every source) are answered by our own node:http entry through the
// same receiver stack the route handler uses, without Next's request pipeline, which alone caps
// throughput below the plain-Express reference (BENCHMARKS.md); everything else goes to Next. Plain
// `next start` still works: the route handler calls the same stack.
import { createServer } from 'node:http';
import { ensureBuild } from './ensure-build';

// Like `next start`: production React, secure cookies, and the production configuration rules.
// (Next's types make NODE_ENV read-only, hence Object.assign.)
Object.assign(process.env, { NODE_ENV: process.env.NODE_ENV ?? 'production' });

let env: typeof import('@/lib/env').env;
try {
  ({ env } = await import('@/lib/env'));
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}

ensureBuild();

const { default: next } = await import('next');
const { log } = await import('@/lib/log');
const { fromIncoming, sendNode } = await import('@/lib/receiver/node-request');
const { webhookSlug } = await import('@/lib/receiver/stack');
const { runtime, startInProcess, stopInProcess } = await import('@/lib/runtime');
const { PEER_HEADER, markPeerHeaderTrusted } = await import('@/lib/api/client-ip');

await startInProcess({ handleSignals: false });
const app = next({ dev: false, dir: process.cwd(), port: env.PORT });
const handle = app.getRequestHandler();
await app.prepare();

const server = createServer((req, res) => {
  const startedAt = performance.now();
  const slug = req.method === 'POST' && req.url ? webhookSlug(req.url) : null;
  if (slug !== null) {
    runtime()
      .receiver.handle(slug, fromIncoming(req, startedAt))
      .then((r) => sendNode(res, r, r.bodyUnread === true));
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
  void stopInProcess().finally(() => process.exit(1));
});
server.listen(env.PORT, () => log.info({ port: env.PORT }, 'listening'));

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: no new connections, draining');
    // Stop accepting, let in-flight requests finish (bounded), then stop the worker and flush writes.
    server.close();
    server.closeIdleConnections();
    const force = setTimeout(() => server.closeAllConnections(), 10_000).unref();
    void stopInProcess()
      .then(() => app.close?.())
      .finally(() => {
        clearTimeout(force);
        process.exit(0);
      });
  });
}
