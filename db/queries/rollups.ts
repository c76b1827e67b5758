import { sql } from 'drizzle-orm';
import { type Queryable, rowsOf, type Tx } from '../client';
import { type Histogram, merge, percentiles, total } from '../histogram';
import { type ReceiptOutcome, receiptCountsHourly, receiptRollups, rollupWrites } from '../schema';

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

/** The outcomes answered 2xx: the requests whose ack time and lag the latency tiers hold. */
const ACKNOWLEDGED: ReadonlySet<ReceiptOutcome> = new Set(['accepted', 'duplicate', 'ignored', 'malformed']);

/** One latency tier row's share of a write: its key and what this write adds to it. */
type TierDelta = {
  granularity: 'minute' | 'hour';
  bucket: number;
  source: string;
  eventType: string;
  count: number;
  ack: Histogram;
  lag: Histogram;
};

/**
 * Adds aggregated cells to the rollups in one transaction: receipt counts per minute × source × event
 * type × outcome (outcome charts) and per hour, and latency tiers per minute and per hour, each for the
 * source and all sources ('*') × the event type and all types ('*'), so a chart reads one row per
 * point whatever the range and filter. Several replicas writing the same minute add up.
 */
export async function writeRollups(db: Queryable, cells: RollupCell[], writeId?: string): Promise<void> {
  if (cells.length === 0) return;
  const tiers = new Map<string, TierDelta>();
  for (const c of cells) {
    // The latency tiers are what we acknowledged (a 2xx): a refused request's quick 400 or 404, or
    // a flood of them, is counted with its outcome, never in the ack and lag figures.
    if (!ACKNOWLEDGED.has(c.outcome)) continue;
    const hour = Math.floor(c.minute / 3_600_000) * 3_600_000;
    for (const [granularity, bucket] of [
      ['minute', c.minute],
      ['hour', hour],
    ] as const) {
      // '*' is the all-types row: an event type that is literally "*" (a signed body may say so)
      // goes there once, not twice.
      for (const source of [c.source, '*'])
        for (const eventType of c.eventType === '*' ? ['*'] : [c.eventType, '*']) {
          const key = `${granularity}|${bucket}|${source}|${eventType}`;
          const t = tiers.get(key) ?? { granularity, bucket, source, eventType, count: 0, ack: {}, lag: {} };
          t.count += c.count;
          merge(t.ack, c.ack);
          merge(t.lag, c.lag);
          tiers.set(key, t);
        }
    }
  }
  await db.transaction(async (tx) => {
    if (writeId !== undefined && !(await claimWrite(tx, writeId))) return;
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
          })),
        )
        .onConflictDoUpdate({
          target: [
            receiptRollups.minute,
            receiptRollups.source,
            receiptRollups.eventType,
            receiptRollups.outcome,
          ],
          set: { count: sql`${receiptRollups.count} + excluded.count` },
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
    await writeTiers(tx, [...tiers.values()]);
  });
}

/** How long a write's id is kept: a batch retried later than this could count twice. */
const WRITE_IDS_KEPT = '1 day';

/**
 * Records a batch's id in its own transaction; false when the id is there already (the batch
 * committed before, and its answer was lost). Ids older than WRITE_IDS_KEPT go in the same step.
 */
async function claimWrite(tx: Tx, writeId: string): Promise<boolean> {
  const claimed = rowsOf(
    await tx.execute(
      sql`insert into ${rollupWrites} (id) values (${writeId}) on conflict (id) do nothing returning id`,
    ),
  );
  if (claimed.length === 0) return false;
  await tx.execute(sql`delete from ${rollupWrites} where written_at < now() - ${WRITE_IDS_KEPT}::interval`);
  return true;
}

const QS = [0.5, 0.95, 0.99] as const;

/** A tier row as stored: its histograms with their percentiles and the lag histogram's total. */
function stored(t: { count: number; ack: Histogram; lag: Histogram }) {
  const pcts = (h: Histogram) => {
    const p = percentiles(h, QS);
    return p[0] === null ? null : p;
  };
  return {
    count: t.count,
    ack_hist: t.ack,
    lag_hist: t.lag,
    ack_pcts: pcts(t.ack),
    lag_pcts: pcts(t.lag),
    lag_count: total(t.lag),
  };
}

/** The columns of a tier row in a JSON parameter (json_to_recordset). */
const TIER_COLUMNS = sql.raw(`g text, b timestamptz, s text, e text, count bigint, ack_hist jsonb,
  lag_hist jsonb, ack_pcts float8[], lag_pcts float8[], lag_count bigint`);

/**
 * The latency tiers: the rows this write changes are read and locked (in key order, so two replicas
 * never wait on each other in a cycle), merged with its deltas here, and written back whole with their
 * percentiles. Merging in SQL (hist_merge, then hist_pcts over the result, per histogram per row, once
 * a second) cost PGlite a mean 30 ms a write at 400 receipts/s of one event type and 74 ms at six;
 * this way 12 and 22 ms (bench/rollup-write.ts). A row that did not
 * exist is inserted; where another replica inserted it first, the SQL merge adds the two up.
 */
async function writeTiers(tx: Tx, deltas: TierDelta[]): Promise<void> {
  const keys = deltas.map((d, i) => ({
    i,
    g: d.granularity,
    b: new Date(d.bucket).toISOString(),
    s: d.source,
    e: d.eventType,
  }));
  const res = await tx.execute(sql`
    select k.i, l.count, l.ack_hist, l.lag_hist
      from json_to_recordset(${JSON.stringify(keys)}::json) as k(i int, g text, b timestamptz, s text, e text)
      join latency_rollups l
        on l.granularity = k.g and l.source = k.s and l.event_type = k.e and l.bucket = k.b
     order by l.granularity, l.source, l.event_type, l.bucket
       for update of l`);
  const found = new Map<number, { count: number; ack: Histogram; lag: Histogram }>();
  for (const r of rowsOf<{
    i: number;
    count: string | number;
    ack_hist: Histogram | string;
    lag_hist: Histogram | string;
  }>(res)) {
    const hist = (h: Histogram | string) => (typeof h === 'string' ? (JSON.parse(h) as Histogram) : h);
    found.set(Number(r.i), { count: Number(r.count), ack: hist(r.ack_hist), lag: hist(r.lag_hist) });
  }
  const updates: object[] = [];
  const inserts: object[] = [];
  for (const [i, d] of deltas.entries()) {
    const key = keys[i]!;
    const old = found.get(i);
    if (old)
      updates.push({
        ...key,
        ...stored({ count: old.count + d.count, ack: merge(old.ack, d.ack), lag: merge(old.lag, d.lag) }),
      });
    else inserts.push({ ...key, ...stored(d) });
  }
  if (updates.length > 0)
    await tx.execute(sql`
      update latency_rollups l
         set count = u.count, ack_hist = u.ack_hist, lag_hist = u.lag_hist,
             ack_pcts = u.ack_pcts, lag_pcts = u.lag_pcts, lag_count = u.lag_count
        from json_to_recordset(${JSON.stringify(updates)}::json) as u(${TIER_COLUMNS})
       where l.granularity = u.g and l.source = u.s and l.event_type = u.e and l.bucket = u.b`);
  if (inserts.length > 0)
    await tx.execute(sql`
      insert into latency_rollups as l
             (granularity, bucket, source, event_type, count, ack_hist, lag_hist, ack_pcts, lag_pcts, lag_count)
      select g, b, s, e, count, ack_hist, lag_hist, ack_pcts, lag_pcts, lag_count
        from json_to_recordset(${JSON.stringify(inserts)}::json) as u(${TIER_COLUMNS})
      on conflict (granularity, source, event_type, bucket) do update set
         count = l.count + excluded.count,
         ack_hist = hist_merge(l.ack_hist, excluded.ack_hist),
         lag_hist = hist_merge(l.lag_hist, excluded.lag_hist),
         ack_pcts = hist_pcts(hist_merge(l.ack_hist, excluded.ack_hist)),
         lag_pcts = hist_pcts(hist_merge(l.lag_hist, excluded.lag_hist)),
         lag_count = l.lag_count + excluded.lag_count`);
}

/**
 * Rows per insert: 5 parameters each stays far below Postgres's 65,535 bind parameters, however many
 * cells one write carries (a write that can never fit would fail every second forever).
 */
const CHUNK = 1000;
function* chunks<T>(rows: T[]): Generator<T[]> {
  for (let i = 0; i < rows.length; i += CHUNK) yield rows.slice(i, i + CHUNK);
}
