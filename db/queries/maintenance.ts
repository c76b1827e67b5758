import { type SQL, sql } from 'drizzle-orm';
import { type Db, type Queryable, rowsOf } from '../client';

export type PruneOptions = { batch?: number; budgetMs?: number; fingerprintHours?: number };

/**
 * Deletes data past retention in batches of `batch` rows, batch after batch until nothing old is left
 * or `budgetMs` is spent (the next run goes on from there). Small batches keep every lock and every
 * PGlite statement short; looping keeps up with any steady rate (one batch per run fell behind at
 * about 8 receipts/s). Returns the receipts and events deleted.
 */
export async function pruneOld(
  db: Queryable,
  retentionDays: number,
  { batch = 5000, budgetMs = 30_000, fingerprintHours = 24 }: PruneOptions = {},
): Promise<number> {
  const deadline = Date.now() + budgetMs;
  const days = sql.raw(`interval '${Math.trunc(retentionDays)} days'`);
  const drain = async (victims: SQL) => {
    let total = 0;
    for (;;) {
      const res = await db.execute(sql`with d as (${victims} returning 1) select count(*)::int as n from d`);
      const n = Number(rowsOf<{ n: number }>(res)[0]?.n ?? 0);
      total += n;
      if (n < batch || Date.now() > deadline) return total;
    }
  };
  const receipts = await drain(sql`delete from receipts where id in (
    select id from receipts where received_at < now() - ${days} order by id limit ${batch})`);
  const events = await drain(sql`delete from events where id in (
    select id from events where created_at < now() - ${days} and status in ('processed', 'discarded')
     order by id limit ${batch})`);
  await drain(sql`delete from fingerprints where fingerprint in (
    select fingerprint from fingerprints where created_at < now() - make_interval(hours => ${fingerprintHours}::int)
     limit ${batch})`);
  // Rollups hold one row per minute or hour and type: a few thousand rows a day at most.
  await db.execute(sql`delete from receipt_rollups where minute < now() - ${days}`);
  await db.execute(sql`delete from receipt_counts_hourly where hour < now() - ${days}`);
  await db.execute(sql`delete from latency_rollups where bucket < now() - ${days}`);
  return receipts + events;
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
export async function vacuumTables(db: Db, { analyze }: { analyze: boolean }) {
  const res = await db.execute(sql`
    select quote_ident(relname) as name from pg_class
     where relkind = 'r' and relnamespace = 'public'::regnamespace order by relname`);
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
