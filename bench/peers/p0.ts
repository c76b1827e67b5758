// P0: node:http + postgres.js, one INSERT … ON CONFLICT per request (the machine's practical ceiling).
import { createServer } from 'node:http';
import postgres from 'postgres';
import { verifySignature } from '@/lib/providers/skylight/signature';
import { INBOX_DDL, peerConfig } from './common';

const { port, url, secret } = peerConfig();
const sql = postgres(url, { max: 10, onnotice: () => {} });
await sql.unsafe(INBOX_DDL);

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
      await sql`insert into bench_inbox (delivery_id, event_type, payload)
                values (${env.delivery_id}, ${env.event}, ${raw.toString('utf8')}::jsonb)
                on conflict (delivery_id) do nothing`;
      send(res, 200, { received: true });
    } catch {
      send(res, 503, { error: { code: 'unavailable', message: 'write failed' } });
    }
  });
}).listen(port, '127.0.0.1');
