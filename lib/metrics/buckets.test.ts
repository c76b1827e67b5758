import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketStarts, chooseBucketS, fillingBucket, MAX_POINTS, rangeMs, TIME_RANGES } from './buckets';

const H = 3_600_000;

test('1 minute buckets up to 6 hours, coarser after', () => {
  assert.equal(chooseBucketS(0, 15 * 60_000), 60);
  assert.equal(chooseBucketS(0, 6 * H), 60);
  assert.equal(chooseBucketS(0, 7 * H), 300);
  assert.equal(chooseBucketS(0, 24 * H), 300);
  assert.equal(chooseBucketS(0, 48 * H), 900);
  assert.equal(chooseBucketS(0, 7 * 24 * H), 3600);
  assert.equal(chooseBucketS(0, 30 * 24 * H), 3 * 3600);
  assert.equal(chooseBucketS(0, 400 * 24 * H), 86_400);
});

test('every offered range stays within the point budget', () => {
  for (const r of TIME_RANGES) {
    const span = rangeMs(r);
    const b = chooseBucketS(0, span);
    assert.ok(bucketStarts(1_700_000_012_345, 1_700_000_012_345 + span, b).length <= MAX_POINTS + 1, r);
  }
});

test('empty or inverted ranges pick the finest bucket', () => {
  assert.equal(chooseBucketS(10, 10), 60);
  assert.equal(chooseBucketS(10, 0), 60);
});

test('bucket starts are aligned and cover the range', () => {
  const from = Date.UTC(2026, 0, 1, 0, 0, 30);
  const to = Date.UTC(2026, 0, 1, 0, 3, 0);
  assert.deepEqual(bucketStarts(from, to, 60), [
    Date.UTC(2026, 0, 1, 0, 0),
    Date.UTC(2026, 0, 1, 0, 1),
    Date.UTC(2026, 0, 1, 0, 2),
  ]);
});

test('fillingBucket: the last bucket while it has not ended; none for a past range or a lone point', () => {
  const starts = ['2026-03-10T12:00:00.000Z', '2026-03-10T12:01:00.000Z', '2026-03-10T12:02:00.000Z'];
  assert.equal(fillingBucket(starts, Date.parse('2026-03-10T12:02:40Z')), 2);
  assert.equal(fillingBucket(starts, Date.parse('2026-03-10T12:03:00Z')), null, 'ended exactly now');
  assert.equal(fillingBucket(starts, Date.parse('2026-03-11T00:00:00Z')), null, 'a custom range in the past');
  assert.equal(fillingBucket(starts.slice(0, 1), Date.parse('2026-03-10T12:00:30Z')), null);
  assert.equal(fillingBucket([], 0), null);
});
