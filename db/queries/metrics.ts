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
type TierRow = { bucket: Date | string; hist: Record<string, number> };

const HOUR_MS = 3_600_000;

/** Rows of one latency tier for an event type ('*' = all types) in [from, to). */
async function tierRows(
  db: Queryable,
  kind: 'ack' | 'lag',
  granularity: 'minute' | 'hour',
  eventType: string,
  from: Date,
  to: Date,
) {
  if (from >= to) return [];
  const col = kind === 'ack' ? sql.raw('ack_hist') : sql.raw('lag_hist');
  const res = await db.execute(sql`
    select bucket, ${col} as hist from latency_rollups
     where granularity = ${granularity} and event_type = ${eventType}
       and bucket >= ${from.toISOString()}::timestamptz and bucket < ${to.toISOString()}::timestamptz`);
  return rowsOf<TierRow>(res).map((r) => ({ t: new Date(r.bucket).getTime(), hist: r.hist }));
}

/**
 * Histogram cells (chart bucket start, histogram bucket, count) of ack or lag times. One tier row
 * per chart point or less: hourly rows for buckets of an hour or more, minute rows otherwise.
 */
export async function latencyCells(
  db: Queryable,
  kind: 'ack' | 'lag',
  q: MetricsRange,
  bucketS: number,
): Promise<HistCell[]> {
  const from = new Date(Math.floor(q.from.getTime() / 60_000) * 60_000);
  const rows = await tierRows(
    db,
    kind,
    bucketS >= 3600 ? 'hour' : 'minute',
    q.event_type ?? '*',
    bucketS >= 3600 ? new Date(Math.floor(from.getTime() / HOUR_MS) * HOUR_MS) : from,
    q.to,
  );
  const bucketMs = bucketS * 1000;
  const cells: HistCell[] = [];
  for (const r of rows) {
    const t = Math.floor(r.t / bucketMs) * bucketMs;
    for (const [k, n] of Object.entries(r.hist)) cells.push({ t, bucket: Number(k), n: Number(n) });
  }
  return cells;
}

/** One histogram of ack or lag times over the range: whole hours from the hourly tier, edges by minute. */
export async function latencyHistogram(
  db: Queryable,
  kind: 'ack' | 'lag',
  q: MetricsRange,
): Promise<Record<string, number>> {
  const type = q.event_type ?? '*';
  const from = new Date(Math.floor(q.from.getTime() / 60_000) * 60_000);
  const firstHour = new Date(Math.ceil(from.getTime() / HOUR_MS) * HOUR_MS);
  const lastHour = new Date(Math.floor(q.to.getTime() / HOUR_MS) * HOUR_MS);
  const parts =
    firstHour < lastHour
      ? await Promise.all([
          tierRows(db, kind, 'minute', type, from, firstHour),
          tierRows(db, kind, 'hour', type, firstHour, lastHour),
          tierRows(db, kind, 'minute', type, lastHour, q.to),
        ])
      : [await tierRows(db, kind, 'minute', type, from, q.to)];
  const out: Record<string, number> = {};
  for (const r of parts.flat())
    for (const [k, n] of Object.entries(r.hist)) out[k] = (out[k] ?? 0) + Number(n);
  return out;
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

/** Receipt counts per event type and outcome over the range (from the rollups, seconds behind). */
export async function outcomeCountsByType(db: Queryable, q: MetricsRange) {
  const res = await db.execute(sql`
    select r.event_type, r.outcome, sum(r.count)::float8 as n
      from receipt_rollups r
     where ${rollupWhere(q)}
     group by 1, 2`);
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
