import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shareLowerBound } from './checks';

const pct = (k: number, n: number) => Math.round(shareLowerBound(k, n) * 1000) / 10;

test('the dead-letter share counts only what the sample size shows (Wilson lower bound, 95 %)', () => {
  // A few unlucky deliveries early in a window: 12 % observed, but a 5 % failure rate explains it.
  assert.equal(pct(5, 41), 5.3);
  assert.ok(pct(5, 41) < 10);
  // An outage: the share stands above the 10 % default with enough deliveries.
  assert.equal(pct(30, 200), 10.7);
  assert.equal(pct(8, 40), 10.5);
  assert.equal(pct(7, 40), 8.7);
  // Everything failing on a quiet source still alerts.
  assert.ok(pct(3, 3) > 40);
  assert.equal(shareLowerBound(0, 100), 0);
  assert.equal(shareLowerBound(0, 0), 0);
  // More dead letters than accepted (the rollups lag the events by a second): capped at all of them.
  assert.ok(shareLowerBound(5, 3) <= 1);
});
