// P1: the seed's reference shape: Express + pg Pool, one INSERT … ON CONFLICT per request.
import pg from 'pg';
import { INBOX_DDL, INBOX_INSERT, peerConfig } from './common';
import { serveExpress } from './serve';

const { port, url, secret } = peerConfig();
const pool = new pg.Pool({ connectionString: url, max: 10 });
await pool.query(INBOX_DDL);

serveExpress(port, secret, (env, raw) => pool.query(INBOX_INSERT, [env.delivery_id, env.event, raw]));
