import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { bucketOf, type Histogram, HistogramSum, merge, percentiles, record, total } from './histogram';

function exact(values: number[], q: number) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(1, Math.ceil(q * s.length)) - 1]!;
}

test('empty histogram has no percentiles', () => {
  assert.deepEqual(percentiles({}, [0.5, 0.99]), [null, null]);
});

test('merge adds counts', () => {
  const a = record(record({}, 5), 5);
  const b = record({}, 5);
  assert.equal(total(merge(a, b)), 3);
});

test('property: percentiles are within 2 % of the exact nearest-rank value', () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: 0.05, max: 600_000, noNaN: true }), { minLength: 1, maxLength: 500 }),
      (values) => {
        const h = {};
        for (const v of values) record(h, v);
        const [p50, p95, p99] = percentiles(h, [0.5, 0.95, 0.99]);
        for (const [got, q] of [
          [p50, 0.5],
          [p95, 0.95],
          [p99, 0.99],
        ] as const) {
          const want = exact(values, q);
          assert.ok(Math.abs(got! - want) / want <= 0.02, `q${q}: ${got} vs ${want}`);
        }
      },
    ),
    { numRuns: 1000 },
  );
});

test('bucket boundaries are monotonic', () => {
  let prev = -1;
  for (let v = 0.001; v < 1e6; v *= 1.3) {
    const b = bucketOf(v);
    assert.ok(b >= prev);
    prev = b;
  }
});

/** Sparse histograms as the rollups hold them: bucket 0, far tails, counts up to a billion. */
const arbHistogram = fc
  .dictionary(
    fc.integer({ min: 0, max: 2000 }).map(String),
    fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 1_000_000_000 })),
    { maxKeys: 60 },
  )
  .map((h) => h as Histogram);

test('property: a HistogramSum has the percentiles and total of the merged histograms', () => {
  fc.assert(
    fc.property(fc.array(arbHistogram, { maxLength: 12 }), (hs) => {
      const sum = new HistogramSum();
      const merged: Histogram = {};
      for (const h of hs) {
        sum.add(h);
        merge(merged, h);
      }
      const qs = [0, 0.01, 0.5, 0.95, 0.99, 1];
      assert.deepEqual(sum.percentiles(qs), percentiles(merged, qs));
      assert.equal(sum.total, total(merged));
    }),
    { numRuns: 500 },
  );
});

test('a HistogramSum grows past its initial buckets', () => {
  const sum = new HistogramSum();
  sum.add({ '5000': 1, '0': 1 });
  assert.deepEqual(sum.percentiles([0.5, 1]), percentiles({ '5000': 1, '0': 1 }, [0.5, 1]));
});
