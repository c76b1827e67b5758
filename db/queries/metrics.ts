import { sql } from 'drizzle-orm';
import { type Queryable, rowsOf } from '../client';
import { type Histogram, merge } from '../histogram';
import type { ReceiptOutcome, ROLLUP_GRANULARITIES } from '../schema';

// Chart queries read the rollups, never raw receipts over long ranges: receipt_rollups per minute and
// receipt_counts_hourly for counts, the latency tiers (latency_rollups) for percentiles; lib/metrics does the maths.

/** `source` narrows to one source's receipts and events; absent means all sources. */
export type MetricsRange = { from: Date; to: Date; event_type?: string; source?: string };

const HOUR_MS = 3_600_000;

type Kind = 'ack' | 'lag';
type Granularity = (typeof ROLLUP_GRANULARITIES)[number];

/** Which latency tier rows: one source or all ('*'), one event type or all ('*'). */
export type TierKey = { source: string; eventType: string };

const tierWhere = (granularity: Granularity, key: TierKey, from: Date, to: Date) =>
  sql`granularity = ${granularity} and source = ${key.source} and event_type = ${key.eventType}
      and bucket >= ${from.toISOString()}::timestamptz and bucket < ${to.toISOString()}::timestamptz`;

/** The tier rows a range's filter reads. */
export const tierKeyOf = (q: MetricsRange): TierKey => ({
  source: q.source ?? '*',
  eventType: q.event_type ?? '*',
});

/** Rollup and event filters for a range's optional source and event type. */
const narrow = (q: { event_type?: string; source?: string }, alias = '') => {
  const col = (c: string) => sql.raw(alias ? `${alias}.${c}` : c);
  return sql`${q.event_type !== undefined ? sql`and ${col('event_type')} = ${q.event_type}` : sql``}
    ${q.source !== undefined ? sql`and ${col('source')} = ${q.source}` : sql``}`;
};

// date_part is float8 (extract is numeric, slower); exact for whole seconds.
const epochMs = sql`date_part('epoch', bucket) * 1000`;

/** Rows of one latency tier with the kind's histogram, for a source and event type, in [from, to). */
export async function tierHists(
  db: Queryable,
  kind: Kind,
  granularity: Granularity,
  key: TierKey,
  from: Date,
  to: Date,
): Promise<Array<{ t: number; hist: Histogram }>> {
  if (from >= to) return [];
  const hist = sql.raw(kind === 'ack' ? 'ack_hist' : 'lag_hist');
  const res = await db.execute(sql`
    select ${epochMs} as t, ${hist} as hist from latency_rollups
     where ${tierWhere(granularity, key, from, to)}`);
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
  key: TierKey,
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
     where ${tierWhere(granularity, key, from, to)}`);
  return rowsOf<TierPcts>(res);
}

/** One histogram of ack or lag times over the range: whole hours from the hourly tier, edges by minute. */
export async function latencyHistogram(db: Queryable, kind: Kind, q: MetricsRange): Promise<Histogram> {
  const type = tierKeyOf(q);
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

/**
 * Receipt counts per chart bucket and outcome. Points cover whole buckets (like the latency charts):
 * the first starts at the bucket boundary at or before `from`. Buckets of an hour or more read the
 * hourly counts. The bins' origin is UTC's epoch, as the chart's buckets are: written without an
 * offset it was midnight in the server's time zone, and no bin met a bucket (an empty chart).
 */
export async function outcomeCells(db: Queryable, q: MetricsRange, bucketS: number) {
  const bucketMs = bucketS * 1000;
  const from = new Date(Math.floor(q.from.getTime() / bucketMs) * bucketMs).toISOString();
  const type = narrow(q, 'r');
  const [table, col] =
    bucketS >= 3600 ? [sql`receipt_counts_hourly`, sql`r.hour`] : [sql`receipt_rollups`, sql`r.minute`];
  const res = await db.execute(sql`
    select (date_part('epoch', date_bin(make_interval(secs => ${bucketS}), ${col}, timestamptz '1970-01-01 00:00:00+00')) * 1000)::float8 as t,
           r.outcome as key, sum(r.count)::float8 as n
      from ${table} r
     where ${col} >= ${from}::timestamptz and ${col} < ${q.to.toISOString()}::timestamptz ${type}
     group by 1, 2`);
  return rowsOf<{ t: number; key: string; n: number }>(res).map((r) => ({
    t: Number(r.t),
    key: r.key,
    n: Number(r.n),
  }));
}

/**
 * Receipt counts per event type and outcome over the range (from the rollups, seconds behind):
 * whole hours from the hourly counts, the partial hours at either edge from the minutes.
 */
export async function outcomeCountsByType(db: Queryable, q: MetricsRange) {
  const from = Math.floor(q.from.getTime() / 60_000) * 60_000;
  const to = q.to.getTime();
  let firstHour = Math.ceil(from / HOUR_MS) * HOUR_MS;
  let lastHour = Math.floor(to / HOUR_MS) * HOUR_MS;
  if (firstHour >= lastHour) firstHour = lastHour = to;
  const iso = (ms: number) => new Date(ms).toISOString();
  const type = narrow(q);
  const res = await db.execute(sql`
    select event_type, outcome, sum(count)::float8 as n from (
      select event_type, outcome, count from receipt_rollups
       where minute >= ${iso(from)}::timestamptz and minute < ${iso(firstHour)}::timestamptz ${type}
      union all
      select event_type, outcome, count from receipt_counts_hourly
       where hour >= ${iso(firstHour)}::timestamptz and hour < ${iso(lastHour)}::timestamptz ${type}
      union all
      select event_type, outcome, count from receipt_rollups
       where minute >= ${iso(lastHour)}::timestamptz and minute < ${iso(to)}::timestamptz ${type}
    ) x
    group by 1, 2`);
  return rowsOf<{ event_type: string; outcome: ReceiptOutcome; n: number }>(res).map((r) => ({
    ...r,
    n: Number(r.n),
  }));
}

export type RetryRow = { event_type: string; retried: number; dead: number };

/**
 * Events created in the range per type that needed more than one attempt, and that are dead now.
 * Only those rows are read (a partial index); how many events were created comes from the accepted
 * receipt counts (one event per accepted receipt), so a 30-day range never scans every event.
 */
export async function retryCounts(db: Queryable, q: MetricsRange): Promise<RetryRow[]> {
  const res = await db.execute(sql`
    select e.event_type, count(*) filter (where e.retried)::int as retried,
           count(*) filter (where e.status = 'dead')::int as dead
      from events e
     where e.created_at >= ${q.from.toISOString()}::timestamptz and e.created_at < ${q.to.toISOString()}::timestamptz
       and (e.retried or e.status = 'dead')
       ${narrow(q, 'e')}
     group by 1 order by 1`);
  return rowsOf<RetryRow>(res).map((r) => ({
    event_type: r.event_type,
    retried: Number(r.retried),
    dead: Number(r.dead),
  }));
}

/** Updates processed as `skipped_stale` (older than the stored state) per event type, by attempt time. */
export async function staleCounts(
  db: Queryable,
  q: MetricsRange,
): Promise<Array<{ event_type: string; n: number }>> {
  const res = await db.execute(sql`
    select e.event_type, count(*)::int as n
      from attempts a join events e on e.id = a.event_id
     where a.result = 'skipped_stale'
       and a.started_at >= ${q.from.toISOString()}::timestamptz and a.started_at < ${q.to.toISOString()}::timestamptz
       ${narrow(q, 'e')}
     group by 1 order by 1`);
  return rowsOf<{ event_type: string; n: number }>(res).map((r) => ({
    event_type: r.event_type,
    n: Number(r.n),
  }));
}

/** Handler durations (exact, from raw attempts): callers keep the window short. */
export async function handlerDurations(
  db: Queryable,
  from: Date,
  to: Date,
  filter: { event_type?: string; source?: string } = {},
) {
  const narrowed = filter.event_type !== undefined || filter.source !== undefined;
  const res = await db.execute(sql`
    select count(*)::int as count,
           percentile_cont(0.5) within group (order by a.duration_ms)::float8 as p50,
           percentile_cont(0.95) within group (order by a.duration_ms)::float8 as p95,
           percentile_cont(0.99) within group (order by a.duration_ms)::float8 as p99
      from attempts a
     where a.started_at >= ${from.toISOString()}::timestamptz and a.started_at < ${to.toISOString()}::timestamptz
       ${narrowed ? sql`and exists (select 1 from events e where e.id = a.event_id ${narrow(filter, 'e')})` : sql``}`);
  const r = rowsOf<{ count: number; p50: number | null; p95: number | null; p99: number | null }>(res)[0];
  const num = (v: number | null | undefined) => (v === null || v === undefined ? null : Number(v));
  return { count: Number(r?.count ?? 0), p50: num(r?.p50), p95: num(r?.p95), p99: num(r?.p99) };
}
