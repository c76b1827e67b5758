import { sql } from 'drizzle-orm';
import { type Queryable, rowsOf } from '../client';

/**
 * Folds up to `limit` receipts into the per-minute rollups and marks them rolled up, in one statement.
 * Receipts younger than a few seconds wait, so their exact ack time (written after COMMIT) is in.
 * SKIP LOCKED lets several replicas run this at once without double counting.
 */
export async function rollUpReceipts(db: Queryable, limit = 20_000): Promise<number> {
  const res = await db.execute(sql`
    with batch as (
      update receipts set rolled_up = true
       where id in (select id from receipts
                     where not rolled_up and received_at < now() - interval '3 seconds'
                     order by id limit ${limit} for update skip locked)
      returning date_trunc('minute', received_at) as m, coalesce(event_type, '') as et, outcome,
                hist_bucket(ack_ms) as ab, hist_bucket(greatest(lag_ms, 0)) as lb
    ),
    counts as (select m, et, outcome, count(*) as c from batch group by 1, 2, 3),
    ack as (
      select m, et, outcome, jsonb_object_agg(ab::text, n) as h
        from (select m, et, outcome, ab, count(*) as n from batch group by 1, 2, 3, 4) x group by 1, 2, 3
    ),
    lag as (
      select m, et, outcome, jsonb_object_agg(lb::text, n) as h
        from (select m, et, outcome, lb, count(*) as n from batch where lb is not null group by 1, 2, 3, 4) x
       group by 1, 2, 3
    ),
    ins as (
      insert into receipt_rollups (minute, event_type, outcome, count, ack_hist, lag_hist)
      select c.m, c.et, c.outcome, c.c, coalesce(ack.h, '{}'::jsonb), coalesce(lag.h, '{}'::jsonb)
        from counts c left join ack using (m, et, outcome) left join lag using (m, et, outcome)
      on conflict (minute, event_type, outcome) do update
        set count = receipt_rollups.count + excluded.count,
            ack_hist = hist_merge(receipt_rollups.ack_hist, excluded.ack_hist),
            lag_hist = hist_merge(receipt_rollups.lag_hist, excluded.lag_hist)
      returning 1
    )
    select (select count(*) from batch)::int as n`);
  return Number(rowsOf<{ n: number }>(res)[0]?.n ?? 0);
}

/** Deletes data past retention in bounded batches, so pruning never holds long locks. */
export async function pruneOld(db: Queryable, retentionDays: number, batch = 5000): Promise<number> {
  const days = sql.raw(`interval '${Math.trunc(retentionDays)} days'`);
  const r1 = await db.execute(sql`
    with d as (delete from receipts where id in (
      select id from receipts where received_at < now() - ${days} and rolled_up order by id limit ${batch}) returning 1)
    select count(*)::int as n from d`);
  const r2 = await db.execute(sql`
    with d as (delete from events where id in (
      select id from events where created_at < now() - ${days} and status in ('processed', 'discarded')
       order by id limit ${batch}) returning 1)
    select count(*)::int as n from d`);
  await db.execute(sql`delete from fingerprints where fingerprint in (
    select fingerprint from fingerprints where created_at < now() - interval '24 hours' limit ${batch})`);
  await db.execute(sql`delete from receipt_rollups where minute < now() - ${days}`);
  return Number(rowsOf<{ n: number }>(r1)[0]?.n ?? 0) + Number(rowsOf<{ n: number }>(r2)[0]?.n ?? 0);
}
