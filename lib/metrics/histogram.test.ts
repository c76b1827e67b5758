import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { bucketOf, merge, percentiles, record, total } from './histogram';

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
