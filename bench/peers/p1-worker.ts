// P1W: the reference that also processes (issue #19's default-configuration goal). P1's Express + pg
// receiver, whose one statement per request stores the delivery AND queues a graphile-worker job for
// it (one commit, so an ack still means both are durable), and graphile-worker running in the same
// process (as our inline worker does) with a task that records the event as handled. It does less per
// event than ours (no receipt, no entity write, no attempt row), so it bounds what the reference's
// design can ack and process on this machine from above.
import { Logger, run } from 'graphile-worker';
import pg from 'pg';
import { INBOX_DDL, peerConfig } from './common';
import { serveExpress } from './serve';

const { port, url, secret } = peerConfig();
const pool = new pg.Pool({ connectionString: url, max: 10 });
await pool.query(INBOX_DDL);
await pool.query(`create table if not exists bench_effects (
  inbox_id bigint primary key,
  handled_at timestamptz not null default now())`);

let handled = 0;
const logger = new Logger(() => (level, message) => {
  if (level === 'error') console.error(`graphile-worker: ${message}`);
});
// Started before the server listens: its first start installs graphile-worker's schema.
await run({
  connectionString: url,
  // Our inline worker's default on Postgres (WORKER_CONCURRENCY).
  concurrency: 4,
  maxPoolSize: 10,
  pollInterval: 500,
  noHandleSignals: true,
  logger,
  taskList: {
    handle: async (payload, helpers) => {
      const { id } = payload as { id: number };
      await helpers.query('insert into bench_effects (inbox_id) values ($1) on conflict do nothing', [id]);
      handled++;
    },
  },
});

const app = serveExpress(port, secret, (env, raw) =>
  pool.query(
    `with ins as (
       insert into bench_inbox (delivery_id, event_type, payload) values ($1, $2, $3::jsonb)
       on conflict (delivery_id) do nothing
       returning id)
     select graphile_worker.add_job('handle', json_build_object('id', id)) from ins`,
    [env.delivery_id, env.event, raw],
  ),
);
// The harness counts processed events from this line, the one our /metrics gives it (bench/pipeline.ts).
app.get('/metrics', (_req, res) => {
  res.type('text/plain').send(`skylight_worker_attempts_total{result="success"} ${handled}\n`);
});
