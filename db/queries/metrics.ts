import { type SQL, sql } from 'drizzle-orm';
import { type Queryable, rowsOf } from '../client';
import type { ReceiptOutcome } from '../schema';

// Chart queries read the per-minute rollups (never raw receipts over long ranges) and let the
// database sum histogram cells per chart bucket; lib/metrics turns the cells into percentiles.

export type MetricsRange = { from: Date; to: Date; event_type?: string };

const bin = (bucketS: number) =>
  sql`(extract(epoch from date_bin(make_interval(secs => ${bucketS}), r.minute, timestamptz '1970-01-01')) * 1000)::float8`;

const rollupWhere = (q: MetricsRange): SQL =>
  sql`r.minute >= date_trunc('minute', ${q.from.toISOString()}::timestamptz) and r.minute < ${q.to.toISOString()}::timestamptz
      ${q.event_type !== undefined ? sql`and r.event_type = ${q.event_type}` : sql``}`;

export type HistCell = { t: number; bucket: number; n: number };

/** Histogram cells (chart bucket start, histogram bucket, count) of ack or lag times. */
export async function latencyCells(
  db: Queryable,
  kind: 'ack' | 'lag',
  q: MetricsRange,
  bucketS: number,
): Promise<HistCell[]> {
  const col = kind === 'ack' ? sql.raw('ack_hist') : sql.raw('lag_hist');
  const res = await db.execute(sql`
    select ${bin(bucketS)} as t, h.key::int as bucket, sum(h.value::bigint)::float8 as n
      from receipt_rollups r cross join lateral jsonb_each_text(r.${col}) as h(key, value)
     where ${rollupWhere(q)}
     group by 1, 2`);
  return rowsOf<HistCell>(res).map((r) => ({ t: Number(r.t), bucket: Number(r.bucket), n: Number(r.n) }));
}

/** One histogram of ack or lag times over the whole range. */
export async function latencyHistogram(
  db: Queryable,
  kind: 'ack' | 'lag',
  q: MetricsRange,
): Promise<Record<string, number>> {
  const col = kind === 'ack' ? sql.raw('ack_hist') : sql.raw('lag_hist');
  const res = await db.execute(sql`
    select h.key as bucket, sum(h.value::bigint)::float8 as n
      from receipt_rollups r cross join lateral jsonb_each_text(r.${col}) as h(key, value)
     where ${rollupWhere(q)}
     group by 1`);
  return Object.fromEntries(rowsOf<{ bucket: string; n: number }>(res).map((r) => [r.bucket, Number(r.n)]));
}

/** Receipt counts per chart bucket and outcome. */
export async function outcomeCells(db: Queryable, q: MetricsRange, bucketS: number) {
  const res = await db.execute(sql`
    select ${bin(bucketS)} as t, r.outcome as key, sum(r.count)::float8 as n
      from receipt_rollups r
     where ${rollupWhere(q)}
     group by 1, 2`);
  return rowsOf<{ t: number; key: string; n: number }>(res).map((r) => ({
    t: Number(r.t),
    key: r.key,
    n: Number(r.n),
  }));
}

/**
 * Receipt counts per event type and outcome: the rollups plus receipts not rolled up yet (the last
 * few seconds), so fresh deliveries count at once.
 */
export async function outcomeCountsByType(db: Queryable, q: MetricsRange) {
  const res = await db.execute(sql`
    select event_type, outcome, sum(n)::float8 as n from (
      select r.event_type, r.outcome, r.count as n from receipt_rollups r where ${rollupWhere(q)}
      union all
      select coalesce(event_type, ''), outcome, 1 from receipts
       where not rolled_up and received_at >= ${q.from.toISOString()}::timestamptz
         and received_at < ${q.to.toISOString()}::timestamptz
         ${q.event_type !== undefined ? sql`and event_type = ${q.event_type}` : sql``}
    ) x group by 1, 2`);
  return rowsOf<{ event_type: string; outcome: ReceiptOutcome; n: number }>(res).map((r) => ({
    ...r,
    n: Number(r.n),
  }));
}

export type RetryRow = { event_type: string; events: number; retried: number; dead: number };

/** Events created in the range per type: how many needed more than one attempt, how many died. */
export async function retryCounts(db: Queryable, q: MetricsRange): Promise<RetryRow[]> {
  const res = await db.execute(sql`
    select e.event_type, count(*)::int as events,
           count(*) filter (where (select count(*) from attempts a where a.event_id = e.id) > 1)::int as retried,
           count(*) filter (where e.status = 'dead')::int as dead
      from events e
     where e.created_at >= ${q.from.toISOString()}::timestamptz and e.created_at < ${q.to.toISOString()}::timestamptz
       ${q.event_type !== undefined ? sql`and e.event_type = ${q.event_type}` : sql``}
     group by 1 order by 1`);
  return rowsOf<RetryRow>(res).map((r) => ({
    event_type: r.event_type,
    events: Number(r.events),
    retried: Number(r.retried),
    dead: Number(r.dead),
  }));
}

/** Handler durations (exact, from raw attempts): callers keep the window short. */
export async function handlerDurations(db: Queryable, from: Date, to: Date) {
  const res = await db.execute(sql`
    select count(*)::int as count,
           percentile_cont(0.5) within group (order by duration_ms)::float8 as p50,
           percentile_cont(0.95) within group (order by duration_ms)::float8 as p95,
           percentile_cont(0.99) within group (order by duration_ms)::float8 as p99
      from attempts
     where started_at >= ${from.toISOString()}::timestamptz and started_at < ${to.toISOString()}::timestamptz`);
  const r = rowsOf<{ count: number; p50: number | null; p95: number | null; p99: number | null }>(res)[0];
  const num = (v: number | null | undefined) => (v === null || v === undefined ? null : Number(v));
  return { count: Number(r?.count ?? 0), p50: num(r?.p50), p95: num(r?.p95), p99: num(r?.p99) };
}
