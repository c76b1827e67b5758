import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clampOutliers, LOG_FLOOR } from './outliers';

const pt = (p50: number | null, p99: number | null) => ({ t: 'x', p50, p99 });

test('one absurd value is drawn at 10x the median of the highest series and keeps its real value', () => {
  const points = [...Array.from({ length: 10 }, (_, i) => pt(10 + i, 40 + i)), pt(12, 28_857_600_000)];
  const r = clampOutliers(points, ['p50', 'p99'] as const);
  assert.equal(r.clamped, 1);
  assert.equal(r.cap, 450);
  assert.equal(r.points.at(-1)!.p99, 450);
  assert.deepEqual(r.points.at(-1)!.raw, { p99: 28_857_600_000 });
  assert.equal(r.points[0]!.p99, 40, 'normal values untouched');
});

test('a short range where one bucket lifts p95 and p99 together is still clamped', () => {
  const p = (v: number) => ({ t: 'x', p50: v, p95: v * 5, p99: v * 20 });
  const points = [p(10), p(12), p(9), p(11), { t: 'x', p50: 12, p95: 960_000, p99: 970_000 }];
  const r = clampOutliers(points, ['p50', 'p95', 'p99'] as const);
  assert.equal(r.cap, 2200);
  assert.equal(r.clamped, 2);
});

test('nothing is clamped when values are few, alike, or empty', () => {
  assert.equal(clampOutliers([pt(1, 1_000_000), pt(2, 3)], ['p50', 'p99'] as const).cap, null);
  const alike = Array.from({ length: 20 }, (_, i) => pt(100 + i, 300 + i));
  assert.equal(clampOutliers(alike, ['p50', 'p99'] as const).clamped, 0);
  assert.equal(clampOutliers([pt(null, null)], ['p50', 'p99'] as const).clamped, 0);
});

test('a percentile at or below 0 (a provider clock ahead of ours) is drawn at the log floor, its value kept', () => {
  const r = clampOutliers([pt(0, 12), pt(3, 14), pt(-5, 9)], ['p50', 'p99'] as const);
  assert.deepEqual(
    r.points.map((p) => p.p50),
    [LOG_FLOOR, 3, LOG_FLOOR],
  );
  assert.deepEqual(r.points[0]!.raw, { p50: 0 });
  assert.deepEqual(r.points[2]!.raw, { p50: -5 });
  assert.equal(r.cap, null, 'no outlier, so no cap and no note');
  assert.ok(
    r.points.every((p) => (p.p50 ?? 1) > 0 && (p.p99 ?? 1) > 0),
    'nothing a log axis cannot draw',
  );
});
