import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Hold, RateBudget } from './rate-budget';

/** An answer's rate-limit headers, the provider's clock `theirNowMs` in its Date header. */
const headers = (remaining: number, resetS: number, theirNowMs: number, limit = 120) =>
  new Headers({
    date: new Date(theirNowMs).toUTCString(),
    'x-ratelimit-limit': String(limit),
    'x-ratelimit-remaining': String(remaining),
    'x-ratelimit-reset': String(resetS),
  });

async function refusal(p: Promise<Hold | null>): Promise<Hold> {
  const hold = await p;
  assert.ok(hold, 'expected the budget to hold the request back');
  return hold;
}

test('shares follow the provider headers: bulk stops at 50 left of 120, the watchdog at 20, operators at 0', async () => {
  let now = 1_000_000_000_000;
  const budget = new RateBudget(() => now);
  const resetS = now / 1000 + 40;
  assert.equal(budget.left('bulk'), 70, 'a window not seen yet counts as whole: the shares hold at once');

  assert.equal(await budget.take('bulk', 0), null);
  budget.settle(headers(51, resetS, now));
  assert.equal(budget.left('bulk'), 1);
  assert.equal(await budget.take('bulk', 0), null);
  budget.settle(headers(50, resetS, now));
  const held = await refusal(budget.take('bulk', 5_000));
  assert.equal(held.retryAfterS, 41, 'told to come back when the window resets');
  assert.equal(held.keptFor, "the watchdog and operators' actions");

  assert.equal(budget.left('watchdog'), 30);
  assert.equal(budget.left('operator'), 50);
  assert.equal(await budget.take('watchdog', 0), null);
  budget.settle(headers(20, resetS, now));
  assert.equal((await refusal(budget.take('watchdog', 0))).keptFor, "operators' actions");
  assert.equal(await budget.take('operator', 0), null);
  budget.settle(headers(0, resetS, now));
  assert.equal((await refusal(budget.take('operator', 0))).keptFor, null, 'spent');

  now += 41_000;
  assert.equal(budget.left('operator'), 0, 'until the reset has passed');
  assert.equal(await budget.take('bulk', 0), null);
  assert.equal(budget.left('bulk'), 69, 'a new window counts as whole, less the request in flight');
});

test('answers out of order: within a window the lowest count stands', async () => {
  const now = 3_000_000_000_000;
  const budget = new RateBudget(() => now);
  for (let i = 0; i < 2; i++) await budget.take('operator', 0);
  budget.settle(headers(30, now / 1000 + 30, now));
  budget.settle(headers(31, now / 1000 + 30, now));
  assert.equal(budget.left('operator'), 30);
});

test('the reset is read on the provider’s clock: ours 5 min ahead neither opens the window early nor waits long', async () => {
  const theirs = 4_000_000_000_000;
  let now = theirs + 300_000;
  const budget = new RateBudget(() => now);
  assert.equal(await budget.take('operator', 0), null);
  budget.settle(headers(0, theirs / 1000 + 20, theirs));
  assert.equal((await refusal(budget.take('operator', 0))).retryAfterS, 21);
  now += 10_000;
  await refusal(budget.take('operator', 0));
  now += 11_000;
  assert.equal(await budget.take('operator', 0), null);
});

test('a wait within the caller’s patience is waited out, then the request goes', async () => {
  const budget = new RateBudget();
  assert.equal(await budget.take('operator', 0), null);
  const now = Date.now();
  budget.settle(headers(0, Math.ceil(now / 1000) + 1, Math.floor(now / 1000) * 1000));
  const t0 = performance.now();
  assert.equal(await budget.take('operator', 3_000), null);
  assert.ok(performance.now() - t0 >= 250, 'held until the reset');
});

test('a request waiting on the ones in flight goes as soon as one of them gets no answer', async () => {
  const now = 6_000_000_000_000;
  const budget = new RateBudget(() => now);
  assert.equal(await budget.take('operator', 0), null);
  budget.settle(headers(1, now / 1000 + 50, now));
  assert.equal(await budget.take('operator', 0), null);
  let sent = false;
  const second = budget.take('operator', 5_000).then((hold) => {
    sent = hold === null;
  });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(sent, false, 'the one place left is in flight');
  budget.settle(null);
  await second;
  assert.equal(sent, true, 'woken by the failed request, not at the reset 50 s on');
});

test('a 429 empties the window for as long as it asks, one window at most', async () => {
  let now = 5_000_000;
  const budget = new RateBudget(() => now);
  assert.equal(await budget.take('operator', 0), null);
  budget.settle(new Headers());
  budget.refused(30);
  assert.equal((await refusal(budget.take('operator', 0))).retryAfterS, 31);
  now += 31_000;
  assert.equal(await budget.take('operator', 0), null);
  budget.settle(new Headers());
  budget.refused(3_600);
  assert.equal((await refusal(budget.take('operator', 0))).retryAfterS, 61);
});
