// P0: node:http + postgres.js, one INSERT … ON CONFLICT per request (the machine's practical ceiling).
import postgres from 'postgres';
import { INBOX_DDL, peerConfig } from './common';
import { servePlain } from './serve';

const { port, url, secret } = peerConfig();
const sql = postgres(url, { max: 10, onnotice: () => {} });
await sql.unsafe(INBOX_DDL);

servePlain(
  port,
  secret,
  (env, raw) => sql`insert into bench_inbox (delivery_id, event_type, payload)
                    values (${env.delivery_id}, ${env.event}, ${raw}::jsonb)
                    on conflict (delivery_id) do nothing`,
);
