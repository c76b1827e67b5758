import { sql } from 'drizzle-orm';
import { Logger, run } from 'graphile-worker';
import postgres from 'postgres';
import { type DbHandle, openDb, rowsOf } from '@/db/client';
import { Worker } from '@/lib/worker/worker';

export type DrainResult = {
  n: number;
  concurrency: number;
  seconds: number;
  perSecond: number;
  /** Transactions committed in the database during the drain, per event (ours only). */
  commitsPerEvent?: number;
};

const poll = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Inserts n pending events with an event type that has no handler (the no-op default handler), then
 * times our Worker from start until every one is committed as processed.
 */
export async function drainOurs(
  url: string,
  n: number,
  concurrency: number,
  /** The worker's batch size; undefined: its default. */
  batchSize?: number,
): Promise<DrainResult> {
  const h = await openDb({ url, max: 10 });
  let w: DbHandle | undefined;
  try {
    await h.db.execute(sql`truncate events, attempts, effects restart identity cascade`);
    await h.db.execute(sql`
      insert into events (source, provider, delivery_id, event_type, fingerprint, payload)
      select 'skylightchat', 'skylight', 'w-' || g, 'bench.noop', 'w-' || g, jsonb_build_object('event', 'bench.noop', 'data', '{}'::jsonb)
        from generate_series(1, ${n}) g`);
    await h.db.execute(sql`vacuum analyze events`);
    // The worker's own pool as the app opens it (lib/db.ts getWorkerDb): prepared statements.
    w = await openDb({ url, max: concurrency + 1, migrate: false, prepared: true });
    const worker = new Worker(async () => w!.db, {
      concurrency,
      batchSize,
      maxAttempts: 5,
      backoffMs: 1000,
      pollMs: 50,
      context: () => ({ notifyUrl: null }),
    });
    const commits = async () =>
      Number(
        rowsOf<{ c: string }>(
          await h.db.execute(
            sql`select xact_commit::text as c from pg_stat_database where datname = current_database()`,
          ),
        )[0]!.c,
      );
    const c0 = await commits();
    const t0 = performance.now();
    worker.start();
    const until = Date.now() + 120_000;
    while (worker.processed < n && Date.now() < until) await poll(5);
    const seconds = (performance.now() - t0) / 1000;
    await worker.stop(2000);
    if (worker.processed < n) throw new Error(`worker processed ${worker.processed}/${n} within 120 s`);
    // The statistics collector reports with a delay of up to a second.
    await poll(1100);
    const commitsPerEvent = Math.round((((await commits()) - c0) / n) * 100) / 100;
    return { n, concurrency, seconds: round(seconds), perSecond: Math.round(n / seconds), commitsPerEvent };
  } finally {
    await w?.close();
    await h.close();
  }
}

/** The same drain with graphile-worker: n no-op jobs added in bulk, timed until its queue is empty. */
export async function drainGraphile(url: string, n: number, concurrency: number): Promise<DrainResult> {
  const sqlc = postgres(url, { max: 1, onnotice: () => {} });
  const logger = new Logger(() => (level, message) => {
    if (level === 'error') console.error(`graphile-worker: ${message}`);
  });
  try {
    // The first run installs graphile-worker's schema; then the queue is emptied for this run.
    const setup = await run({ connectionString: url, taskList: {}, noHandleSignals: true, logger });
    await setup.stop();
    await sqlc.unsafe('delete from graphile_worker._private_jobs');
    await sqlc.unsafe(`select graphile_worker.add_jobs(array(
      select row('noop', json_build_object('i', g), null, null, null, null, null, null)::graphile_worker.job_spec
        from generate_series(1, ${n}) g))`);
    await sqlc.unsafe('vacuum analyze graphile_worker._private_jobs');
    const t0 = performance.now();
    const runner = await run({
      connectionString: url,
      concurrency,
      maxPoolSize: 10,
      pollInterval: 50,
      noHandleSignals: true,
      logger,
      taskList: { noop: async () => {} },
    });
    const until = Date.now() + 120_000;
    let left = n;
    while (left > 0 && Date.now() < until) {
      await poll(20);
      const [r] = await sqlc<{ c: number }[]>`select count(*)::int as c from graphile_worker._private_jobs`;
      left = r!.c;
    }
    const seconds = (performance.now() - t0) / 1000;
    await runner.stop();
    if (left > 0) throw new Error(`graphile-worker left ${left}/${n} jobs after 120 s`);
    return { n, concurrency, seconds: round(seconds), perSecond: Math.round(n / seconds) };
  } finally {
    await sqlc.end({ timeout: 5 });
  }
}

const round = (v: number) => Math.round(v * 1000) / 1000;
