import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BodyBudget, bodyBudgetLimits } from './body-budget';

test('each client has its share; an IPv6 client is its /64; the total caps them all', () => {
  const b = new BodyBudget({ perClientBytes: 100, totalBytes: 250 });
  const first = b.take('10.0.0.1', 60)!;
  assert.ok(first);
  assert.equal(b.take('10.0.0.1', 50), null, 'over its share');
  assert.ok(b.take('10.0.0.1', 40));
  assert.ok(b.take('2001:db8:1:2::1', 90));
  assert.equal(b.take('2001:db8:1:2:ffff::7', 20), null, 'the same /64');
  assert.equal(b.take('10.0.0.2', 80), null, 'over the total (190 + 80 > 250)');
  assert.ok(b.take(null, 60), 'an unknown client counts in the total only');
  first();
  first();
  assert.deepEqual(b.reserved, { bytes: 190, clients: 2 }, 'a release counts once');
  assert.ok(b.take('10.0.0.1', 60));
});

test('16 MB per client and 256 MB in all, or two and eight of the largest bodies if more', () => {
  assert.deepEqual(bodyBudgetLimits(1_048_576), { perClientBytes: 16_777_216, totalBytes: 268_435_456 });
  assert.deepEqual(bodyBudgetLimits(64 * 1_048_576), {
    perClientBytes: 134_217_728,
    totalBytes: 536_870_912,
  });
});
