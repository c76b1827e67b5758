import { sql } from 'drizzle-orm';
import { type Histogram, merge } from '@/lib/metrics/histogram';
import type { RollupCell } from '@/lib/metrics/rollup-buffer';
import { type Db, type Queryable, rowsOf } from '../client';
import { latencyRollups, receiptCountsHourly, receiptRollups } from '../schema';

/**
 * Adds aggregated cells to the rollups in one transaction: per minute × event type × outcome
 * (outcome charts) and its hourly counts, and latency tiers per minute and per hour, each for the event type and for all
 * types ('*'), so a chart reads one row per point whatever the range. Upserts merge histograms in
 * SQL, so several replicas writing the same minute add up.
 */
export async function writeRollups(db: Db, cells: RollupCell[]): Promise<void> {
  if (cells.length === 0) return;
  const tiers = new Map<
    string,
    {
      granularity: 'minute' | 'hour';
      bucket: number;
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
      for (const eventType of [c.eventType, '*']) {
        const key = `${granularity}|${bucket}|${eventType}`;
        const t = tiers.get(key) ?? { granularity, bucket, eventType, count: 0, ack: {}, lag: {} };
        t.count += c.count;
        merge(t.ack, c.ack);
        merge(t.lag, c.lag);
        tiers.set(key, t);
      }
    }
  }
  await db.transaction(async (tx) => {
    await tx
      .insert(receiptRollups)
      .values(
        cells.map((c) => ({
          minute: new Date(c.minute),
          eventType: c.eventType,
          outcome: c.outcome,
          count: c.count,
          ackHist: c.ack,
          lagHist: c.lag,
        })),
      )
      .onConflictDoUpdate({
        target: [receiptRollups.minute, receiptRollups.eventType, receiptRollups.outcome],
        set: {
          count: sql`${receiptRollups.count} + excluded.count`,
          ackHist: sql`hist_merge(${receiptRollups.ackHist}, excluded.ack_hist)`,
          lagHist: sql`hist_merge(${receiptRollups.lagHist}, excluded.lag_hist)`,
        },
      });
    const hourly = new Map<
      string,
      { hour: Date; eventType: string; outcome: RollupCell['outcome']; count: number }
    >();
    for (const c of cells) {
      const hour = Math.floor(c.minute / 3_600_000) * 3_600_000;
      const key = `${hour}|${c.eventType}|${c.outcome}`;
      const h = hourly.get(key) ?? {
        hour: new Date(hour),
        eventType: c.eventType,
        outcome: c.outcome,
        count: 0,
      };
      h.count += c.count;
      hourly.set(key, h);
    }
    await tx
      .insert(receiptCountsHourly)
      .values([...hourly.values()])
      .onConflictDoUpdate({
        target: [receiptCountsHourly.hour, receiptCountsHourly.eventType, receiptCountsHourly.outcome],
        set: { count: sql`${receiptCountsHourly.count} + excluded.count` },
      });
    await tx
      .insert(latencyRollups)
      .values(
        [...tiers.values()].map((t) => ({
          granularity: t.granularity,
          bucket: new Date(t.bucket),
          eventType: t.eventType,
          count: t.count,
          ackHist: t.ack,
          lagHist: t.lag,
        })),
      )
      .onConflictDoUpdate({
        target: [latencyRollups.granularity, latencyRollups.bucket, latencyRollups.eventType],
        set: {
          count: sql`${latencyRollups.count} + excluded.count`,
          ackHist: sql`hist_merge(${latencyRollups.ackHist}, excluded.ack_hist)`,
          lagHist: sql`hist_merge(${latencyRollups.lagHist}, excluded.lag_hist)`,
        },
      });
  });
}

/** Deletes data past retention in bounded batches, so pruning never holds long locks. */
export async function pruneOld(db: Queryable, retentionDays: number, batch = 5000): Promise<number> {
  const days = sql.raw(`interval '${Math.trunc(retentionDays)} days'`);
  const r1 = await db.execute(sql`
    with d as (delete from receipts where id in (
      select id from receipts where received_at < now() - ${days} order by id limit ${batch}) returning 1)
    select count(*)::int as n from d`);
  const r2 = await db.execute(sql`
    with d as (delete from events where id in (
      select id from events where created_at < now() - ${days} and status in ('processed', 'discarded')
       order by id limit ${batch}) returning 1)
    select count(*)::int as n from d`);
  await db.execute(sql`delete from fingerprints where fingerprint in (
    select fingerprint from fingerprints where created_at < now() - interval '24 hours' limit ${batch})`);
  await db.execute(sql`delete from receipt_rollups where minute < now() - ${days}`);
  await db.execute(sql`delete from receipt_counts_hourly where hour < now() - ${days}`);
  await db.execute(sql`delete from latency_rollups where bucket < now() - ${days}`);
  return Number(rowsOf<{ n: number }>(r1)[0]?.n ?? 0) + Number(rowsOf<{ n: number }>(r2)[0]?.n ?? 0);
}
