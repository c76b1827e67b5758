// P0 on PGlite: node:http and one INSERT … ON CONFLICT per request into PGlite, opened on its own
// thread in a folder as `npm start` opens it (db/pglite-thread.ts). What the simplest receiver acks on
// the embedded database, for reading the default configuration's PGlite figure beside P1's (Postgres).
import { createServer } from 'node:http';
import { PGliteThread } from '@/db/pglite-thread';
import { verifySignature } from '@/lib/providers/skylight/signature';
import { INBOX_DDL, peerConfig } from './common';

const { port, secret } = peerConfig();
const dir = process.env.BENCH_PGLITE_DIR;
if (!dir) throw new Error('BENCH_PGLITE_DIR is required');
const db = await PGliteThread.open(dir);
await db.query(INBOX_DDL);

const send = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

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
      const env = JSON.parse(raw.toString('utf8')) as { delivery_id: string; event: string };
      await db.query(
        `insert into bench_inbox (delivery_id, event_type, payload) values ($1, $2, $3::jsonb)
         on conflict (delivery_id) do nothing`,
        [env.delivery_id, env.event, raw.toString('utf8')],
      );
      send(res, 200, { received: true });
    } catch {
      send(res, 503, { error: { code: 'unavailable', message: 'write failed' } });
    }
  });
}).listen(port, '127.0.0.1');
