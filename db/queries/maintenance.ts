import { type SQL, sql } from 'drizzle-orm';
import { type Db, rowsOf } from '../client';
import { type DropStep, dropExpiredPartitions, type LockTries, listPartitions } from './partitions';

export type PruneOptions = {
  batch?: number;
  budgetMs?: number;
  fingerprintHours?: number;
  /**
   * Processed events are kept at least this long whatever `retentionDays` says: their delivery ids
   * answer a provider's late retry as a duplicate, so they must outlive its retries (Sly's run 72 h).
   */
  eventsMinHours?: number;
  lockTries?: LockTries;
  /** Drop expired day tables in paced pieces (the default; see dropExpiredPartitions). */
  paced?: boolean;
};

export type Pruned = {
  /** Day tables of receipts, receipt_search and receipt_acks dropped whole (db/queries/partitions.ts). */
  partitions: string[];
  /** Expired day tables not detached this run (a lock not had in time): the next run drops them. */
  deferred: string[];
  /** What each dropped table cost (lock tries, detach and drop times). */
  steps: DropStep[];
  /** Receipts deleted row by row: those in a DEFAULT table or one from before partitioning. */
  receipts: number;
  events: number;
};

/**
 * Drops the day partitions past retention, then deletes the rest of what is past retention in
 * batches of `batch` rows, batch after batch until nothing old is left or `budgetMs` is spent (the
 * next run goes on from there). Small batches keep every lock and every PGlite statement short;
 * looping keeps up with any steady rate (one batch per run fell behind at about 8 receipts/s).
 *
 * Receipts in a day table are never deleted row by row: the day goes whole once all of it is past
 * retention, so a receipt is kept RETENTION_DAYS and up to one day more. Deleting the older part of
 * a day would bring back what partitioning removed: dead rows, VACUUM, and a slower receiver.
 */
export async function pruneOld(
  db: Db,
  retentionDays: number,
  {
    batch = 5000,
    budgetMs = 30_000,
    fingerprintHours = 24,
    eventsMinHours = 0,
    lockTries,
    paced,
  }: PruneOptions = {},
): Promise<Pruned> {
  const {
    dropped: partitions,
    busy: deferred,
    steps,
  } = await dropExpiredPartitions(db, retentionDays, { lockTries, paced });
  const deadline = Date.now() + budgetMs;
  const cutoff = sql`now() - ${sql.raw(`interval '${Math.trunc(retentionDays)} days'`)}`;
  const drain = async (statement: SQL) => {
    let total = 0;
    for (;;) {
      const n = Number(rowsOf<{ n: number }>(await db.execute(statement))[0]?.n ?? 0);
      total += n;
      if (n < batch || Date.now() > deadline) return total;
    }
  };
  let receipts = 0;
  const rowTables = (await listPartitions(db)).filter((p) => p.table === 'receipts' && p.from === null);
  for (const table of ['receipts_default', ...rowTables.map((p) => p.name)]) {
    // The search copy and ack time of a receipt in this table are in the same-named sibling table
    // (the three tables are partitioned alike), deleted with it: partitioned tables have no cascade.
    const [r, a, s] = ['receipts', 'receipt_acks', 'receipt_search'].map((t) =>
      sql.identifier(table.replace(/^receipts/, t)),
    );
    receipts += await drain(sql`
      with gone as (
        delete from ${r} where id in (
          select id from ${r} where received_at < ${cutoff} order by id limit ${batch})
        returning id, received_at),
      acks as (delete from ${a} x using gone where x.receipt_id = gone.id and x.received_at = gone.received_at),
      search as (delete from ${s} x using gone where x.receipt_id = gone.id and x.received_at = gone.received_at)
      select count(*)::int as n from gone`);
  }
  // Strays whose receipt landed in a different table (a day created for one of the three only).
  await db.execute(sql`delete from receipt_acks_default where received_at < ${cutoff}`);
  await db.execute(sql`delete from receipt_search_default where received_at < ${cutoff}`);
  const eventsHours = Math.max(Math.trunc(retentionDays) * 24, Math.ceil(eventsMinHours));
  const eventsCutoff = sql`now() - make_interval(hours => ${eventsHours}::int)`;
  const events = await drain(sql`with d as (delete from events where id in (
    select id from events where created_at < ${eventsCutoff} and status in ('processed', 'discarded')
     order by id limit ${batch}) returning 1) select count(*)::int as n from d`);
  // By (source, fingerprint), and the age tested again on the row deleted: another source's live
  // key of the same content, or a key an ingest took over meanwhile (created_at now), stays.
  const expired = sql`created_at < now() - make_interval(hours => ${fingerprintHours}::int)`;
  await drain(sql`with d as (delete from fingerprints where ${expired} and (source, fingerprint) in (
    select source, fingerprint from fingerprints where ${expired} limit ${batch}) returning 1)
    select count(*)::int as n from d`);
  // Rollups hold one row per minute or hour and type: a few thousand rows a day at most.
  await db.execute(sql`delete from receipt_rollups where minute < ${cutoff}`);
  await db.execute(sql`delete from receipt_counts_hourly where hour < ${cutoff}`);
  await db.execute(sql`delete from latency_rollups where bucket < ${cutoff}`);
  // Incidents resolved before the cutoff, with their channel messages (cascade); and the sent or
  // abandoned messages of an incident that has stayed open that long. A comeback of a pruned
  // incident's condition opens a new one.
  await db.execute(sql`delete from alerts where state = 'resolved' and resolved_at < ${cutoff}`);
  await db.execute(sql`delete from alert_notifications where created_at < ${cutoff}
    and (delivered_at is not null or abandoned_at is not null)`);
  return { partitions, deferred, steps, receipts, events };
}

/**
 * PGlite runs Postgres in single-user mode, which has no autovacuum: without this, the dead row
 * versions every event's status changes, forensics write-backs and pruning leave are
 * never reclaimed (the files only grow), and index-only scans turn into heap scans — the queue
 * gauge's count over a 90k-event backlog blocked the embedded database for ~120 ms every 5 s.
 * One statement per table, so receipts queued behind it wait for one table, not all of them.
 * `analyze` refreshes the planner's statistics too (also autovacuum's job on a server). Not in a
 * transaction: VACUUM refuses to run inside one.
 */
export async function vacuumTables(db: Db, { analyze, all = false }: { analyze: boolean; all?: boolean }) {
  // Only tables changed since their last vacuum (or analyze): a past day's receipt tables do not
  // change, and each VACUUM still read every GIN index of theirs whole, on the one thread. `all`
  // after a start, when the counters may have been lost with the process.
  const changed = analyze
    ? sql`(s.n_dead_tup > 0 or s.n_ins_since_vacuum > 0 or s.n_mod_since_analyze > 0)`
    : sql`(s.n_dead_tup > 0 or s.n_ins_since_vacuum > 0)`;
  const res = await db.execute(sql`
    select quote_ident(c.relname) as name from pg_class c
      left join pg_stat_user_tables s on s.relid = c.oid
     where c.relkind = 'r' and c.relnamespace = 'public'::regnamespace
       and (${all} or s.relid is null or ${changed})
     order by c.relname`);
  const verb = analyze ? 'vacuum (analyze)' : 'vacuum';
  // A 3,000-row sample instead of 30,000: enough for these columns' few distinct values and time
  // ranges, and ANALYZE of a large receipts table blocks for ~45 ms instead of ~450 ms.
  if (analyze) await db.execute(sql`set default_statistics_target = 10`);
  try {
    for (const { name } of rowsOf<{ name: string }>(res)) await db.execute(sql.raw(`${verb} ${name}`));
  } finally {
    if (analyze) await db.execute(sql`reset default_statistics_target`);
  }
}
