// The peers' HTTP side, shared so that they differ only in what they store (bench/peers/*.ts).
import { createServer, type ServerResponse } from 'node:http';
import express from 'express';
import { verifySignature } from '@/lib/providers/skylight/signature';

/** What a peer stores for one verified delivery; a throw answers 503. */
export type Store = (env: { delivery_id: string; event: string }, raw: string) => Promise<unknown>;

const send = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

/** node:http, the body read by hand: P0's shape. */
export function servePlain(port: number, secret: string, store: Store) {
  createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks);
      const sig = req.headers['x-skylight-signature'];
      if (!verifySignature(raw, typeof sig === 'string' ? sig : null, [secret]).ok) {
        return send(res, 400, { error: { code: 'bad_request', message: 'bad signature' } });
      }
      try {
        const text = raw.toString('utf8');
        await store(JSON.parse(text), text);
        send(res, 200, { received: true });
      } catch {
        send(res, 503, { error: { code: 'unavailable', message: 'write failed' } });
      }
    });
  }).listen(port, '127.0.0.1');
}

/** Express with its raw body parser: the seed's reference shape (P1). Returns the app for more routes. */
export function serveExpress(port: number, secret: string, store: Store) {
  const app = express();
  app.post(
    '/api/webhooks/skylightchat',
    express.raw({ type: () => true, limit: '1mb' }),
    async (req, res) => {
      const raw = req.body as Buffer;
      if (!verifySignature(raw, req.get('x-skylight-signature') ?? null, [secret]).ok) {
        res.status(400).json({ error: { code: 'bad_request', message: 'bad signature' } });
        return;
      }
      try {
        const text = raw.toString('utf8');
        await store(JSON.parse(text), text);
        res.json({ received: true });
      } catch {
        res.status(503).json({ error: { code: 'unavailable', message: 'write failed' } });
      }
    },
  );
  app.listen(port, '127.0.0.1');
  return app;
}
