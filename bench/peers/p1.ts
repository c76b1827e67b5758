// P1: the seed's reference shape: Express + pg Pool, one INSERT … ON CONFLICT per request.
import express from 'express';
import pg from 'pg';
import { verifySignature } from '@/lib/providers/skylight/signature';
import { INBOX_DDL, peerConfig } from './common';

const { port, url, secret } = peerConfig();
const pool = new pg.Pool({ connectionString: url, max: 10 });
await pool.query(INBOX_DDL);

const app = express();
app.post('/api/webhooks/skylightchat', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
  const raw = req.body as Buffer;
  if (!verifySignature(raw, req.get('x-skylight-signature') ?? null, [secret]).ok) {
    res.status(400).json({ error: { code: 'bad_request', message: 'bad signature' } });
    return;
  }
  try {
    const env = JSON.parse(raw.toString('utf8')) as { delivery_id: string; event: string };
    await pool.query(
      `insert into bench_inbox (delivery_id, event_type, payload) values ($1, $2, $3::jsonb)
       on conflict (delivery_id) do nothing`,
      [env.delivery_id, env.event, raw.toString('utf8')],
    );
    res.json({ received: true });
  } catch {
    res.status(503).json({ error: { code: 'unavailable', message: 'write failed' } });
  }
});
app.listen(port, '127.0.0.1');
