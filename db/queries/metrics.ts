import { type SQL, sql } from 'drizzle-orm';
import { type Histogram, merge } from '@/lib/metrics/histogram';
import { type Queryable, rowsOf } from '../client';
import type { ReceiptOutcome, ROLLUP_GRANULARITIES } from '../schema';

// Chart queries read the rollups, never raw receipts over long ranges: receipt_rollups per minute for
// counts, the latency tiers (latency_rollups) for percentiles; lib/metrics does the maths.

export type MetricsRange = { from: Date; to: Date; event_type?: string };

const bin = (bucketS: number) =>
  sql`(extract(epoch from date_bin(make_interval(secs => ${bucketS}), r.minute, timestamptz '1970-01-01')) * 1000)::float8`;

const rollupWhere = (q: MetricsRange): SQL =>
  sql`r.minute >= date_trunc('minute', ${q.from.toISOString()}::timestamptz) and r.minute < ${q.to.toISOString()}::timestamptz
      ${q.event_type !== undefined ? sql`and r.event_type = ${q.event_type}` : sql``}`;

const HOUR_MS = 3_600_000;

type Kind = 'ack' | 'lag';
type Granularity = (typeof ROLLUP_GRANULARITIES)[number];

const tierWhere = (granularity: Granularity, eventType: string, from: Date, to: Date) =>
  sql`granularity = ${granularity} and event_type = ${eventType}
      and bucket >= ${from.toISOString()}::timestamptz and bucket < ${to.toISOString()}::timestamptz`;

// date_part is float8 (extract is numeric, slower); exact for whole seconds.
const epochMs = sql`date_part('epoch', bucket) * 1000`;

/** Rows of one latency tier with the kind's histogram, for an event type ('*' = all types), in [from, to). */
export async function tierHists(
  db: Queryable,
  kind: Kind,
  granularity: Granularity,
  eventType: string,
  from: Date,
  to: Date,
): Promise<Array<{ t: number; hist: Histogram }>> {
  if (from >= to) return [];
  const hist = sql.raw(kind === 'ack' ? 'ack_hist' : 'lag_hist');
  const res = await db.execute(sql`
    select ${epochMs} as t, ${hist} as hist from latency_rollups
     where ${tierWhere(granularity, eventType, from, to)}`);
  return rowsOf<{ t: number; hist: Histogram }>(res).map((r) => ({ t: Number(r.t), hist: r.hist }));
}

export type TierPcts = { t: number; n: number; p50: number | null; p95: number | null; p99: number | null };

/**
 * Rows of one latency tier with the kind's count and stored p50/p95/p99 (null without values): three
 * numbers per row instead of a histogram. Ack times come with every receipt, so the row's count is
 * the ack count; lag_count counts the receipts that had a lag.
 */
export async function tierPcts(
  db: Queryable,
  kind: Kind,
  granularity: Granularity,
  eventType: string,
  from: Date,
  to: Date,
): Promise<TierPcts[]> {
  if (from >= to) return [];
  const [n, p] = kind === 'ack' ? ['count', 'ack_pcts'] : ['lag_count', 'lag_pcts'];
  // All float8, which both drivers hand back as numbers; three columns parse faster than one float8[].
  const res = await db.execute(sql`
    select ${epochMs} as t, ${sql.raw(n)}::float8 as n,
           ${sql.raw(p)}[1] as p50, ${sql.raw(p)}[2] as p95, ${sql.raw(p)}[3] as p99
      from latency_rollups
     where ${tierWhere(granularity, eventType, from, to)}`);
  return rowsOf<TierPcts>(res);
}

/** One histogram of ack or lag times over the range: whole hours from the hourly tier, edges by minute. */
export async function latencyHistogram(db: Queryable, kind: Kind, q: MetricsRange): Promise<Histogram> {
  const type = q.event_type ?? '*';
  const from = new Date(Math.floor(q.from.getTime() / 60_000) * 60_000);
  const firstHour = new Date(Math.ceil(from.getTime() / HOUR_MS) * HOUR_MS);
  const lastHour = new Date(Math.floor(q.to.getTime() / HOUR_MS) * HOUR_MS);
  const parts =
    firstHour < lastHour
      ? await Promise.all([
          tierHists(db, kind, 'minute', type, from, firstHour),
          tierHists(db, kind, 'hour', type, firstHour, lastHour),
          tierHists(db, kind, 'minute', type, lastHour, q.to),
        ])
      : [await tierHists(db, kind, 'minute', type, from, q.to)];
  const out: Histogram = {};
  for (const r of parts.flat()) merge(out, r.hist);
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
