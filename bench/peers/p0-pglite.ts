// P0 on PGlite: node:http and one INSERT … ON CONFLICT per request into PGlite, opened on its own
// thread in a folder as `npm start` opens it (db/pglite-thread.ts). What the simplest receiver acks on
// the embedded database, for reading the default configuration's PGlite figure beside P1's (Postgres).
import { PGliteThread } from '@/db/pglite-thread';
import { INBOX_DDL, INBOX_INSERT, peerConfig } from './common';
import { servePlain } from './serve';

const { port, secret } = peerConfig();
const dir = process.env.BENCH_PGLITE_DIR;
if (!dir) throw new Error('BENCH_PGLITE_DIR is required');
const db = await PGliteThread.open(dir);
await db.query(INBOX_DDL);

servePlain(port, secret, (env, raw) => db.query(INBOX_INSERT, [env.delivery_id, env.event, raw]));
