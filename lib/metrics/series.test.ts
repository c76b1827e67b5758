import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketOf } from './histogram';
import { countSeries, latencySeries, rate, summarize } from './series';

const T0 = Date.UTC(2026, 0, 1, 12, 0);

test('latency series merges cells per bucket and fills gaps with nulls', () => {
  const cells = [
    { t: T0, bucket: bucketOf(10), n: 90 },
    { t: T0, bucket: bucketOf(1000), n: 10 },
    { t: T0 + 120_000, bucket: bucketOf(5), n: 1 },
  ];
  const s = latencySeries(cells, T0, T0 + 180_000, 60);
  assert.equal(s.length, 3);
  assert.equal(s[0]!.count, 100);
  assert.ok(Math.abs(s[0]!.p50! - 10) / 10 < 0.02);
  assert.ok(Math.abs(s[0]!.p95! - 1000) / 1000 < 0.02);
  assert.deepEqual(s[1], {
    t: new Date(T0 + 60_000).toISOString(),
    count: 0,
    p50: null,
    p95: null,
    p99: null,
  });
  assert.equal(s[2]!.count, 1);
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
