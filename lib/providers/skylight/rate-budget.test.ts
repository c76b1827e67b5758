import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '@/lib/errors';
import { RateBudget } from './rate-budget';

const headers = (remaining: number, resetS: number, limit = 120) =>
  new Headers({
    'x-ratelimit-limit': String(limit),
    'x-ratelimit-remaining': String(remaining),
    'x-ratelimit-reset': String(resetS),
  });

async function refusal(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AppError);
    return err;
  }
  assert.fail('expected the budget to hold the request back');
}

test('shares follow the provider headers: bulk stops at 50 left of 120, the watchdog at 20, operators at 0', async () => {
  let now = 1_000_000_000_000;
  const budget = new RateBudget(() => now);
  const resetS = now / 1000 + 40;
  assert.equal(budget.left('bulk'), null, 'nothing known before the first answer: nothing held back');

  await budget.take('bulk', 0, 'GET /webhooks');
  budget.settle(headers(51, resetS));
  assert.equal(budget.left('bulk'), 1);
  await budget.take('bulk', 0, 'GET /webhooks');
  budget.settle(headers(50, resetS));
  const held = await refusal(budget.take('bulk', 5_000, 'GET /webhooks/1/deliveries'));
  assert.equal(held.code, 'rate_limited');
  assert.equal(held.extra.retryAfterS, 41, 'told to come back when the window resets');
  assert.match(held.message, /kept for the watchdog and operators' actions/);

  assert.equal(budget.left('watchdog'), 30);
  assert.equal(budget.left('operator'), 50);
  budget.settle(headers(20, resetS));
  assert.match((await refusal(budget.take('watchdog', 0, 'GET /webhooks'))).message, /kept for operators'/);
  await budget.take('operator', 0, 'PUT /webhooks/1');
  budget.settle(headers(0, resetS));
  assert.match(
    (await refusal(budget.take('operator', 0, 'PUT /webhooks/1'))).message,
    /rate limit of this API key is spent/,
  );

  now += 41_000;
  assert.equal(budget.left('bulk'), null, 'a new window: what the last one said no longer holds');
  await budget.take('bulk', 0, 'GET /webhooks');
});

test('a wait within the caller’s patience is waited out, then the request goes', async () => {
  const budget = new RateBudget();
  await budget.take('operator', 0, 'GET /webhooks');
  budget.settle(headers(0, Date.now() / 1000 + 0.3));
  const t0 = performance.now();
  await budget.take('operator', 2_000, 'GET /webhooks');
  assert.ok(performance.now() - t0 >= 250, 'held until the reset');
});

test('a 429 empties the window for as long as it asks, headers or not; a failed request frees its place', async () => {
  let now = 5_000_000;
  const budget = new RateBudget(() => now);
  await budget.take('operator', 0, 'GET /webhooks');
  budget.settle(new Headers());
  budget.refused(30);
  assert.equal((await refusal(budget.take('operator', 0, 'GET /webhooks'))).extra.retryAfterS, 31);
  now += 30_000;
  await budget.take('operator', 0, 'GET /webhooks');
  budget.settle(headers(1, now / 1000 + 10, 6));
  await budget.take('operator', 0, 'GET /webhooks');
  await refusal(budget.take('operator', 0, 'GET /webhooks'));
  budget.settle(null);
  assert.equal(budget.left('operator'), 1, 'the request that got no answer no longer counts as in flight');
});

test('a reset far ahead (their clock ahead of ours) holds back one window at most', async () => {
  const now = 2_000_000_000_000;
  const budget = new RateBudget(() => now);
  await budget.take('operator', 0, 'GET /webhooks');
  budget.settle(headers(0, now / 1000 + 3_600));
  assert.equal((await refusal(budget.take('operator', 0, 'GET /webhooks'))).extra.retryAfterS, 61);
});
