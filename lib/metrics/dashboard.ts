import type { Db } from '@/db/client';
import {
  handlerDurations,
  latencyHistogram,
  type MetricsRange,
  outcomeCells,
  outcomeCountsByType,
  retryCounts,
  staleCounts,
  tierHists,
  tierKeyOf,
  tierPcts,
} from '@/db/queries/metrics';
import { queueDepth } from '@/db/queries/queue';
import { RECEIPT_OUTCOMES, type ReceiptOutcome } from '@/db/schema';
import { rejectionCauses } from '@/lib/sources/rejections';
import { chooseBucketS, TIER_S, tierFor } from './buckets';
import { countSeries, histSeries, pctSeries, rate, summarize } from './series';

// The dashboard's metrics, composed from db/queries/metrics and the pure series maths.

const bucketFor = (q: MetricsRange) => chooseBucketS(q.from.getTime(), q.to.getTime());

/** Ack or lag p50/p95/p99 over time, at the bucket size the server picks for the range. */
export async function latencyOverTime(db: Db, kind: 'ack' | 'lag', q: MetricsRange) {
  const bucketS = bucketFor(q);
  return { bucketS, points: await latencyAt(db, kind, q, bucketS) };
}

/**
 * Ack or lag p50/p95/p99 per chart bucket. Every point covers its whole bucket, the first one too:
 * an hourly chart's first point is the whole hour that contains `from` (the summary's KPIs, by
 * contrast, count only minutes from `from` on). A chart at a tier's own granularity reads the
 * percentiles stored per tier row; coarser buckets sum the histograms of the rows they contain.
 */
export async function latencyAt(db: Db, kind: 'ack' | 'lag', q: MetricsRange, bucketS: number) {
  const tier = tierFor(bucketS);
  const fromMs = Math.floor(q.from.getTime() / (bucketS * 1000)) * bucketS * 1000;
  const toMs = q.to.getTime();
  const args = [db, kind, tier, tierKeyOf(q), new Date(fromMs), q.to] as const;
  return bucketS === TIER_S[tier]
    ? pctSeries(await tierPcts(...args), fromMs, toMs, bucketS)
    : histSeries(await tierHists(...args), fromMs, toMs, bucketS);
}

export async function outcomesOverTime(db: Db, q: MetricsRange) {
  const bucketS = bucketFor(q);
  const cells = await outcomeCells(db, q, bucketS);
  return { bucketS, points: countSeries(cells, RECEIPT_OUTCOMES, q.from.getTime(), q.to.getTime(), bucketS) };
}

export type RetryRateRow = {
  event_type: string;
  events: number;
  retried: number;
  retry_rate: number | null;
  dead: number;
  duplicates: number;
  duplicate_rate: number | null;
  /** Updates older than the stored state, processed without effect (out-of-order protection). */
  skipped_stale: number;
  stale_rate: number | null;
};

/**
 * Per event type: events created (= accepted receipts, one event each), retried and dead (events
 * table), duplicates (receipts).
 */
export async function retryRate(db: Db, q: MetricsRange): Promise<RetryRateRow[]> {
  const [retries, counts, stale] = await Promise.all([
    retryCounts(db, q),
    outcomeCountsByType(db, q),
    staleCounts(db, q),
  ]);
  const types = new Set([...retries.map((r) => r.event_type), ...stale.map((r) => r.event_type)]);
  for (const c of counts)
    if (c.event_type && (c.outcome === 'accepted' || c.outcome === 'duplicate')) types.add(c.event_type);
  return [...types].sort().map((t) => {
    const r = retries.find((x) => x.event_type === t) ?? { retried: 0, dead: 0 };
    const n = (o: ReceiptOutcome) =>
      counts.filter((c) => c.event_type === t && c.outcome === o).reduce((s, c) => s + c.n, 0);
    const events = n('accepted');
    const duplicates = n('duplicate');
    const skipped = stale.find((x) => x.event_type === t)?.n ?? 0;
    return {
      event_type: t,
      events,
      retried: r.retried,
      retry_rate: rate(r.retried, events),
      dead: r.dead,
      duplicates,
      duplicate_rate: rate(duplicates, duplicates + events),
      skipped_stale: skipped,
      stale_rate: rate(skipped, events),
    };
  });
}

/** Handler times are read from raw attempts, so only over the last hour of the range at most. */
export const HANDLER_WINDOW_MS = 3_600_000;

export async function summary(db: Db, q: MetricsRange) {
  const handlerFrom = new Date(Math.max(q.from.getTime(), q.to.getTime() - HANDLER_WINDOW_MS));
  const [counts, retries, ack, lag, handler, queue, causes] = await Promise.all([
    outcomeCountsByType(db, q),
    retryCounts(db, q),
    latencyHistogram(db, 'ack', q),
    latencyHistogram(db, 'lag', q),
    handlerDurations(db, handlerFrom, q.to, q),
    queueDepth(db, q),
    rejectionCauses(db, { source: q.source, since: q.from, until: q.to }),
  ]);
  const totals = Object.fromEntries(RECEIPT_OUTCOMES.map((o) => [o, 0])) as Record<ReceiptOutcome, number>;
  for (const c of counts) totals[c.outcome] += c.n;
  const total = Object.values(totals).reduce((s, n) => s + n, 0);
  const events = totals.accepted;
  const minutes = (q.to.getTime() - q.from.getTime()) / 60_000;
  return {
    from: q.from.toISOString(),
    to: q.to.toISOString(),
    totals,
    total,
    // Acknowledged ones: refused requests (anyone's) are in `totals`, not in the delivery rate.
    deliveries_per_min: minutes > 0 ? (total - totals.rejected - totals.unavailable) / minutes : 0,
    duplicate_rate: rate(totals.duplicate, totals.duplicate + totals.accepted),
    retry_rate: rate(
      retries.reduce((s, r) => s + r.retried, 0),
      events,
    ),
    ack_ms: summarize(ack),
    lag_ms: summarize(lag),
    handler_ms: { ...handler, window_from: handlerFrom.toISOString() },
    queue_depth: queue.depth,
    dlq_size: queue.dead,
    oldest_pending_age_ms: queue.oldestPendingS === null ? null : Math.round(queue.oldestPendingS * 1000),
    /** Refused signatures by their diagnosed cause (all sources; not filtered by event type). */
    rejection_causes: causes,
  };
}
export type Summary = Awaited<ReturnType<typeof summary>>;
