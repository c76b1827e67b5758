import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { rowsOf } from '@/db/client';
import { bucketValue, type Histogram, percentiles, total } from '@/db/histogram';
import { outcomeCells, outcomeCountsByType, tierHists } from '@/db/queries/metrics';
import { writeRollups } from '@/db/queries/rollups';
import type { ReceiptOutcome } from '@/db/schema';
import { latencyAt, latencyOverTime } from '@/lib/metrics/dashboard';
import { RollupBuffer } from '@/lib/metrics/rollup-buffer';
import { histSeries } from '@/lib/metrics/series';
import { openTestDb, type TestDb } from './helpers/db';

const QS = [0.5, 0.95, 0.99];
const MIN = 60_000;
const HOUR = 3_600_000;

let db: TestDb;
before(async () => {
  db = await openTestDb();
});
after(() => db.close());

/** Same value up to the last bits, where Postgres's and V8's pow() may differ. */
function close(got: number | null, want: number | null) {
  if (got === null || want === null) return got === want;
  return Math.abs(got - want) <= Math.abs(want) * 1e-12;
}

describe('hist_pcts', () => {
  test('is `percentiles` of the same histogram: empty, one bucket, bucket 0, big counts, random', async () => {
    const hists: Histogram[] = [
      {},
      { '0': 0 },
      { '0': 1 },
      { '0': 99, '300': 1 },
      { '250': 7 },
      { '1': 1, '2': 1 },
      { '5': 1, '6': 19 },
      { '10': 1, '300': 99, '7': 0 },
      { '1': 4_000_000_000_000, '2000': 1, '40': 3_000_000_000 },
      // Ranks at bucket edges: p95 of 14 values is the 14th, p50 of 2 the 1st, p99 of 100 the 99th.
      { '1': 13, '2': 1 },
      { '3': 1, '4': 1 },
      { '1': 99, '2': 1 },
      // Few values in few buckets, where the rank decides the bucket.
      ...fc.sample(
        fc.dictionary(fc.integer({ min: 0, max: 12 }).map(String), fc.integer({ min: 0, max: 3 }), {
          maxKeys: 8,
        }),
        { numRuns: 300, seed: 3 },
      ),
      ...fc.sample(
        fc.dictionary(
          fc.integer({ min: 0, max: 1500 }).map(String),
          fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 2_000_000_000 })),
          { maxKeys: 80 },
        ),
        { numRuns: 300, seed: 5 },
      ),
    ];
    const res = await db.db.execute(sql`
      select i::int as i, hist_pcts(h) as p, hist_total(h)::float8 as n
        from jsonb_array_elements(${JSON.stringify(hists)}::jsonb) with ordinality as x(h, i)`);
    const rows = rowsOf<{ i: number; p: number[] | null; n: number }>(res);
    assert.equal(rows.length, hists.length);
    for (const r of rows) {
      const h = hists[r.i - 1]!;
      const want = percentiles(h, QS);
      assert.equal(Number(r.n), total(h), JSON.stringify(h));
      if (want[0] === null) assert.equal(r.p, null, JSON.stringify(h));
      else
        assert.ok(
          r.p?.every((v, k) => close(v, want[k]!)),
          `${JSON.stringify(h)}: ${r.p} vs ${want}`,
        );
    }
  });

  test('every bucket value up to ~270 days rounds to the same 0.01 ms as in JS', async () => {
    const res = await db.db.execute(sql`
      select b, (hist_pcts(jsonb_build_object(b::text, 1)))[1] as v from generate_series(0, 1500) b`);
    const round = (v: number) => Math.round(v * 100) / 100;
    for (const r of rowsOf<{ b: number; v: number }>(res)) {
      assert.ok(close(r.v, bucketValue(r.b)), `bucket ${r.b}`);
      assert.equal(round(r.v), round(bucketValue(r.b)), `bucket ${r.b}`);
    }
  });

  test('the stored columns follow the histograms through merging upserts', async () => {
    const at = new Date('2025-06-01T10:00:30Z');
    const b = new RollupBuffer();
    for (const ms of [1, 2, 3, 50])
      b.add({
        receivedAt: at,
        source: 'src-a',
        eventType: 'x.stored',
        outcome: 'accepted',
        ackMs: ms,
        lagMs: ms * 10,
      });
    await writeRollups(db.db, b.take());
    for (const ms of [0.001, 900])
      b.add({
        receivedAt: at,
        source: 'src-a',
        eventType: 'x.stored',
        outcome: 'duplicate',
        ackMs: ms,
        lagMs: null,
      });
    await writeRollups(db.db, b.take());
    const rows = rowsOf<{
      count: number;
      ack_hist: Histogram;
      lag_hist: Histogram;
      ack_pcts: number[] | null;
      lag_pcts: number[] | null;
      lag_count: number;
    }>(
      await db.db.execute(sql`
        select count, ack_hist, lag_hist, ack_pcts, lag_pcts, lag_count from latency_rollups
         where event_type = 'x.stored'`),
    );
    assert.equal(rows.length, 4, 'a minute row and an hour row, each for the source and for all sources');
    for (const r of rows) {
      assert.equal(Number(r.count), 6);
      assert.equal(total(r.ack_hist), 6);
      assert.equal(Number(r.lag_count), 4);
      assert.ok(percentiles(r.ack_hist, QS).every((v, k) => close(r.ack_pcts![k]!, v)));
      assert.ok(percentiles(r.lag_hist, QS).every((v, k) => close(r.lag_pcts![k]!, v)));
    }
  });

  test('an event type that is literally "*" is counted once in the all-types rows, not twice', async () => {
    const at = new Date('2025-06-02T10:00:30Z');
    const b = new RollupBuffer();
    for (const ms of [1, 2])
      b.add({
        receivedAt: at,
        source: 'src-star',
        eventType: '*',
        outcome: 'accepted',
        ackMs: ms,
        lagMs: null,
      });
    await writeRollups(db.db, b.take());
    const rows = rowsOf<{ count: number }>(
      await db.db.execute(sql`select count from latency_rollups
        where source = 'src-star' and event_type = '*' and granularity = 'minute'`),
    );
    assert.deepEqual(
      rows.map((r) => Number(r.count)),
      [2],
    );
  });

  /** One replica's second: `n` receipts of one event type at `at`, acks from `offset` ms, every other with a lag. */
  function second(at: Date, type: string, n: number, offset: number, outcome: ReceiptOutcome = 'accepted') {
    const b = new RollupBuffer();
    for (let i = 0; i < n; i++)
      b.add({
        receivedAt: at,
        source: 'src-a',
        eventType: type,
        outcome,
        ackMs: offset + i,
        lagMs: i % 2 === 0 ? (offset + i) * 10 : null,
      });
    return b.take();
  }

  async function tierRows(type: string) {
    return rowsOf<{
      granularity: string;
      source: string;
      count: string | number;
      ack_hist: Histogram;
      lag_hist: Histogram;
      ack_pcts: number[] | null;
      lag_pcts: number[] | null;
      lag_count: string | number;
    }>(
      await db.db.execute(sql`
        select granularity, source, count, ack_hist, lag_hist, ack_pcts, lag_pcts, lag_count
          from latency_rollups where event_type = ${type} order by granularity, source`),
    );
  }

  /** Every row holds all `writes` × `n` receipts, and its stored columns are its histograms'. */
  function assertAddsUp(rows: Awaited<ReturnType<typeof tierRows>>, receipts: number, lags: number) {
    assert.equal(rows.length, 4);
    for (const r of rows) {
      const at = `${r.granularity} ${r.source}`;
      assert.equal(Number(r.count), receipts, at);
      assert.equal(total(r.ack_hist), receipts, at);
      assert.equal(total(r.lag_hist), lags, at);
      assert.equal(Number(r.lag_count), lags, at);
      assert.ok(
        percentiles(r.ack_hist, QS).every((v, k) => close(r.ack_pcts![k]!, v)),
        `${at}: ${r.ack_pcts}`,
      );
      assert.ok(
        percentiles(r.lag_hist, QS).every((v, k) => close(r.lag_pcts![k]!, v)),
        `${at}: ${r.lag_pcts}`,
      );
    }
  }

  test('writes from several replicas at once add up, rows new and old', async () => {
    const at = new Date('2025-06-01T11:00:10Z');
    // Round one creates the rows; in round two every writer merges into rows that exist.
    for (const round of [1, 2])
      await Promise.all(
        [0, 1, 2, 3, 4, 5].map((w) => writeRollups(db.db, second(at, 'x.replicas', 20, w * 100 + round))),
      );
    assertAddsUp(await tierRows('x.replicas'), 2 * 6 * 20, 2 * 6 * 10);
  });

  test('a row another replica inserted after this write looked for it is merged in SQL, not overwritten', {
    skip: !process.env.TEST_DATABASE_URL && 'needs two connections (Postgres)',
  }, async () => {
    const at = new Date('2025-06-01T12:00:10Z');
    let written: Promise<void> | undefined;
    await db.db.transaction(async (other) => {
      // The other replica's insert, not yet committed: this write does not see it, inserts too and
      // waits on its key until it commits, then takes the ON CONFLICT branch. Another outcome, so
      // the two do not meet on a receipt_rollups row first (the tier rows have no outcome).
      await writeRollups(other, second(at, 'x.race', 3, 500, 'duplicate'));
      written = writeRollups(db.db, second(at, 'x.race', 5, 1));
      for (let i = 0; i < 100; i++) {
        const [w] = rowsOf<{ n: number }>(
          await db.db.execute(sql`
              select count(*)::int as n from pg_stat_activity
               where datname = current_database() and wait_event_type = 'Lock'`),
        );
        if (w!.n > 0) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.fail('the second write never waited on the first');
    });
    await written;
    assertAddsUp(await tierRows('x.race'), 8, 2 + 3);
  });
});

describe('latency charts', () => {
  // Five hours of receipts from an epoch-aligned start (a whole 3-hour bucket), not every one with a lag.
  const T0 = Date.UTC(2025, 2, 1, 0, 0);
  const TYPE = 'x.chart';
  const values: Array<{ at: number; type: string; source: string; ack: number; lag: number | null }> = [];

  before(async () => {
    let seed = 7;
    // mulberry32: deterministic data, so a failure reproduces.
    const rnd = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    };
    const b = new RollupBuffer();
    for (let i = 0; i < 6000; i++) {
      const at = T0 + Math.floor(rnd() * 5 * HOUR);
      const v = {
        at,
        type: i % 3 === 0 ? TYPE : 'x.other',
        source: i % 5 === 0 ? 'src-b' : 'src-a',
        ack: Math.exp(Math.log(4) + 1.2 * (rnd() + rnd() + rnd() - 1.5)) + 0.05,
        lag: i % 4 === 0 ? null : 1 + rnd() * 5000,
      };
      values.push(v);
      b.add({
        receivedAt: new Date(at),
        source: v.source,
        eventType: v.type,
        outcome: 'accepted',
        ackMs: v.ack,
        lagMs: v.lag,
      });
    }
    await writeRollups(db.db, b.take());
  });

  const range = (from: number, to: number, type?: string, source?: string) => ({
    from: new Date(from),
    to: new Date(to),
    event_type: type,
    source,
  });

  /** The merge path over minute rows, whatever the bucket: what the stored percentiles must equal. */
  async function viaMinuteHists(kind: 'ack' | 'lag', from: number, to: number, bucketS: number, type = '*') {
    const start = Math.floor(from / (bucketS * 1000)) * bucketS * 1000;
    const rows = await tierHists(
      db.db,
      kind,
      'minute',
      { source: '*', eventType: type },
      new Date(start),
      new Date(to),
    );
    return histSeries(rows, start, to, bucketS);
  }

  test('stored percentiles (1-minute and hourly charts) equal merging the minute histograms', async () => {
    const from = T0 + 37 * MIN;
    const to = T0 + 5 * HOUR;
    for (const kind of ['ack', 'lag'] as const)
      for (const type of [undefined, TYPE]) {
        const minutes = await latencyAt(db.db, kind, range(from, to, type), 60);
        assert.equal(minutes.length, 5 * 60 - 37);
        assert.deepEqual(minutes, await viaMinuteHists(kind, from, to, 60, type));
        const hours = await latencyAt(db.db, kind, range(from, to, type), 3600);
        assert.equal(hours.length, 5);
        assert.deepEqual(hours, await viaMinuteHists(kind, from, to, 3600, type));
      }
  });

  test('every path is within 2 % of the exact percentiles of its whole buckets, with exact counts, per source too', async () => {
    const from = T0 + 37 * MIN;
    const to = T0 + 5 * HOUR;
    for (const bucketS of [60, 300, 900, 3600, 3 * 3600])
      for (const kind of ['ack', 'lag'] as const)
        for (const [type, source] of [
          [undefined, undefined],
          [TYPE, undefined],
          [undefined, 'src-b'],
          [TYPE, 'src-b'],
        ] as const) {
          const points = await latencyAt(db.db, kind, range(from, to, type, source), bucketS);
          const bucketMs = bucketS * 1000;
          assert.equal(points[0]!.t, new Date(Math.floor(from / bucketMs) * bucketMs).toISOString());
          for (const p of points) {
            const t = Date.parse(p.t);
            const exact = values
              .filter(
                (v) =>
                  v.at >= t &&
                  v.at < t + bucketMs &&
                  (type === undefined || v.type === type) &&
                  (source === undefined || v.source === source),
              )
              .map((v) => (kind === 'ack' ? v.ack : v.lag))
              .filter((v): v is number => v !== null)
              .sort((a, b) => a - b);
            assert.equal(p.count, exact.length, `${kind} ${bucketS} s ${p.t} ${source ?? 'all sources'}`);
            if (exact.length === 0) {
              assert.deepEqual([p.p50, p.p95, p.p99], [null, null, null]);
              continue;
            }
            QS.forEach((q, k) => {
              const want = exact[Math.max(1, Math.ceil(q * exact.length)) - 1]!;
              const got = [p.p50, p.p95, p.p99][k]!;
              assert.ok(
                Math.abs(got - want) / want <= 0.02,
                `${kind} ${bucketS} s ${p.t} q${q}: ${got} vs ${want}`,
              );
            });
          }
        }
  });

  test('outcome counts narrow to one source; all sources add up', async () => {
    const from = T0;
    const to = T0 + 5 * HOUR;
    const sum = (rows: Array<{ n: number }>) => rows.reduce((s, r) => s + r.n, 0);
    for (const source of ['src-a', 'src-b']) {
      const want = values.filter((v) => v.source === source).length;
      assert.equal(sum(await outcomeCountsByType(db.db, range(from, to, undefined, source))), want);
      const cells = await outcomeCells(db.db, range(from, to, TYPE, source), 3600);
      assert.equal(sum(cells), values.filter((v) => v.source === source && v.type === TYPE).length);
    }
    assert.equal(sum(await outcomeCountsByType(db.db, range(from, to))), values.length);
  });

  test('the chart picks its bucket from the range and reads the same points', async () => {
    const to = T0 + 5 * HOUR;
    const from = to - 24 * HOUR;
    const day = await latencyOverTime(db.db, 'ack', range(from, to));
    assert.equal(day.bucketS, 300);
    assert.equal(day.points.length, 24 * 12);
    assert.equal(
      day.points.reduce((s, p) => s + p.count, 0),
      values.length,
    );
    assert.deepEqual(day.points, await viaMinuteHists('ack', from, to, 300));
  });
});
