import { sql } from 'drizzle-orm';
import type { Db } from '../client';
import { type Histogram, merge } from '../histogram';
import { latencyRollups, type ReceiptOutcome, receiptCountsHourly, receiptRollups } from '../schema';

/** One minute of receipts of one source, event type and outcome, with its latency histograms. */
export type RollupCell = {
  minute: number;
  source: string;
  eventType: string;
  outcome: ReceiptOutcome;
  count: number;
  ack: Histogram;
  lag: Histogram;
};

/**
 * Adds aggregated cells to the rollups in one transaction: per minute × source × event type × outcome
 * (outcome charts) and its hourly counts, and latency tiers per minute and per hour, each for the
 * source and all sources ('*') × the event type and all types ('*'), so a chart reads one row per
 * point whatever the range and filter. Upserts merge histograms in SQL, so several replicas writing
 * the same minute add up.
 */
export async function writeRollups(db: Db, cells: RollupCell[]): Promise<void> {
  if (cells.length === 0) return;
  const tiers = new Map<
    string,
    {
      granularity: 'minute' | 'hour';
      bucket: number;
      source: string;
      eventType: string;
      count: number;
      ack: Histogram;
      lag: Histogram;
    }
  >();
  for (const c of cells) {
    const hour = Math.floor(c.minute / 3_600_000) * 3_600_000;
    for (const [granularity, bucket] of [
      ['minute', c.minute],
      ['hour', hour],
    ] as const) {
      for (const source of [c.source, '*'])
        for (const eventType of [c.eventType, '*']) {
          const key = `${granularity}|${bucket}|${source}|${eventType}`;
          const t = tiers.get(key) ?? {
            granularity,
            bucket,
            source,
            eventType,
            count: 0,
            ack: {},
            lag: {},
          };
          t.count += c.count;
          merge(t.ack, c.ack);
          merge(t.lag, c.lag);
          tiers.set(key, t);
        }
    }
  }
  await db.transaction(async (tx) => {
    for (const part of chunks(cells)) {
      await tx
        .insert(receiptRollups)
        .values(
          part.map((c) => ({
            minute: new Date(c.minute),
            source: c.source,
            eventType: c.eventType,
            outcome: c.outcome,
            count: c.count,
            ackHist: c.ack,
            lagHist: c.lag,
          })),
        )
        .onConflictDoUpdate({
          target: [
            receiptRollups.minute,
            receiptRollups.source,
            receiptRollups.eventType,
            receiptRollups.outcome,
          ],
          set: {
            count: sql`${receiptRollups.count} + excluded.count`,
            ackHist: sql`hist_merge(${receiptRollups.ackHist}, excluded.ack_hist)`,
            lagHist: sql`hist_merge(${receiptRollups.lagHist}, excluded.lag_hist)`,
          },
        });
    }
    const hourly = new Map<
      string,
      { hour: Date; source: string; eventType: string; outcome: RollupCell['outcome']; count: number }
    >();
    for (const c of cells) {
      const hour = Math.floor(c.minute / 3_600_000) * 3_600_000;
      const key = `${hour}|${c.source}|${c.eventType}|${c.outcome}`;
      const h = hourly.get(key) ?? {
        hour: new Date(hour),
        source: c.source,
        eventType: c.eventType,
        outcome: c.outcome,
        count: 0,
      };
      h.count += c.count;
      hourly.set(key, h);
    }
    for (const part of chunks([...hourly.values()])) {
      await tx
        .insert(receiptCountsHourly)
        .values(part)
        .onConflictDoUpdate({
          target: [
            receiptCountsHourly.hour,
            receiptCountsHourly.source,
            receiptCountsHourly.eventType,
            receiptCountsHourly.outcome,
          ],
          set: { count: sql`${receiptCountsHourly.count} + excluded.count` },
        });
    }
    for (const part of chunks([...tiers.values()])) {
      await tx
        .insert(latencyRollups)
        .values(
          part.map((t) => ({
            granularity: t.granularity,
            bucket: new Date(t.bucket),
            source: t.source,
            eventType: t.eventType,
            count: t.count,
            ackHist: t.ack,
            lagHist: t.lag,
          })),
        )
        .onConflictDoUpdate({
          target: [
            latencyRollups.granularity,
            latencyRollups.bucket,
            latencyRollups.source,
            latencyRollups.eventType,
          ],
          set: {
            count: sql`${latencyRollups.count} + excluded.count`,
            ackHist: sql`hist_merge(${latencyRollups.ackHist}, excluded.ack_hist)`,
            lagHist: sql`hist_merge(${latencyRollups.lagHist}, excluded.lag_hist)`,
          },
        });
    }
  });
}

/**
 * Rows per insert: 7 parameters each stays far below Postgres's 65,535 bind parameters, however many
 * cells one write carries (a write that can never fit would fail every second forever).
 */
const CHUNK = 1000;
function* chunks<T>(rows: T[]): Generator<T[]> {
  for (let i = 0; i < rows.length; i += CHUNK) yield rows.slice(i, i + CHUNK);
}
