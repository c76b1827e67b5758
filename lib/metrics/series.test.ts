import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketOf, type Histogram, percentiles, total } from '@/db/histogram';
import { countSeries, histSeries, pctSeries, rate, summarize } from './series';

const QS = [0.5, 0.95, 0.99];

const T0 = Date.UTC(2026, 0, 1, 12, 0);

test('hist series merges the rows of each bucket and fills gaps with nulls', () => {
  const rows = [
    { t: T0, hist: { [bucketOf(10)]: 90 } },
    { t: T0 + 60_000, hist: { [bucketOf(1000)]: 10 } },
    { t: T0 + 300_000, hist: { [bucketOf(5)]: 1 } },
  ];
  const s = histSeries(rows, T0, T0 + 900_000, 300);
  assert.equal(s.length, 3);
  assert.equal(s[0]!.count, 100);
  assert.ok(Math.abs(s[0]!.p50! - 10) / 10 < 0.02);
  assert.ok(Math.abs(s[0]!.p95! - 1000) / 1000 < 0.02);
  assert.equal(s[1]!.count, 1);
  assert.deepEqual(s[2], {
    t: new Date(T0 + 600_000).toISOString(),
    count: 0,
    p50: null,
    p95: null,
    p99: null,
  });
});

test('pct series and hist series agree when each row is one bucket', () => {
  const hists: Histogram[] = [{ 0: 3 }, { 120: 5, 300: 1 }, {}, { 80: 1_000_000, 81: 1 }];
  const rows = hists.map((hist, i) => ({ t: T0 + i * 3_600_000, hist }));
  // What tierPcts reads: the count and the percentiles hist_pcts stored (null when empty).
  const pcts = rows.map((r) => {
    const [p50, p95, p99] = percentiles(r.hist, QS);
    return { t: r.t, n: total(r.hist), p50: p50!, p95: p95!, p99: p99! };
  });
  const to = T0 + 5 * 3_600_000;
  const viaPcts = pctSeries(pcts, T0, to, 3600);
  assert.equal(viaPcts.length, 5);
  assert.deepEqual(viaPcts, histSeries(rows, T0, to, 3600));
  assert.deepEqual(viaPcts[2], { t: new Date(T0 + 7_200_000).toISOString(), ...summarize({}) });
  assert.equal(viaPcts[0]!.p99, 0);
});

test('summarize of an empty histogram has no percentiles', () => {
  assert.deepEqual(summarize({}), { count: 0, p50: null, p95: null, p99: null });
});

test('count series has every key in every bucket', () => {
  const s = countSeries(
    [
      { t: T0, key: 'accepted', n: 3 },
      { t: T0, key: 'accepted', n: 2 },
      { t: T0 + 60_000, key: 'duplicate', n: 1 },
    ],
    ['accepted', 'duplicate'] as const,
    T0,
    T0 + 120_000,
    60,
  );
  assert.deepEqual(s, [
    { t: new Date(T0).toISOString(), accepted: 5, duplicate: 0 },
    { t: new Date(T0 + 60_000).toISOString(), accepted: 0, duplicate: 1 },
  ]);
});

test('rate is null without a denominator', () => {
  assert.equal(rate(1, 0), null);
  assert.equal(rate(1, 4), 0.25);
});
