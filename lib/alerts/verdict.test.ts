import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silenceOf } from './silence';
import { verdictOf } from './verdict';

const base = { ackP95Ms: 40, ackBudgetMs: 1000, flowingTypes: 3 };

test('no open alert and fast acks: no trouble', () => {
  const v = verdictOf({ ...base, active: [] });
  assert.equal(v.side, 'none');
});

test('lag and provider failures are the provider side, with the evidence in the line', () => {
  const v = verdictOf({
    ...base,
    active: [{ rule: 'lag_high', subject: '*', summary: 'Delivery lag p95 45.0 s' }],
  });
  assert.equal(v.side, 'provider');
  assert.match(v.line, /^Provider side: Delivery lag high: Delivery lag p95 45\.0 s/);
});

test('every flowing type silent is named as such', () => {
  const active = ['a', 'b', 'c'].map((t) => ({
    rule: 'silence' as const,
    subject: t,
    summary: `${t}: nothing`,
  }));
  assert.match(verdictOf({ ...base, active }).line, /every event type has gone quiet/);
});

test('refusals, backlog and slow acks are ours; both kinds together say both', () => {
  const ours = verdictOf({ ...base, ackP95Ms: 2500, active: [] });
  assert.equal(ours.side, 'ours');
  assert.match(ours.line, /2\.5 s at p95/);
  const both = verdictOf({
    ...base,
    active: [
      { rule: 'signature_failures', subject: '*', summary: '12 refused' },
      { rule: 'webhook_disabled', subject: 'skylightchat', summary: 'webhook 1 is disabled' },
    ],
  });
  assert.equal(both.side, 'both');
});

test('silence: a steady type fires past its limit, a rare one never, and nightly pauses are learned', () => {
  const MIN = 60_000;
  const steady = Array.from({ length: 60 }, (_, i) => i * MIN);
  const last = steady[59]!;
  assert.equal(silenceOf(steady, last + 9 * MIN, 3, 10 * MIN), null);
  assert.ok(silenceOf(steady, last + 12 * MIN, 3, 10 * MIN));
  assert.equal(
    silenceOf([0, 60 * MIN, 120 * MIN], 1000 * MIN, 3, 10 * MIN),
    null,
    'too few minutes to learn',
  );
  // 30 active minutes, a 4-hour pause, 30 more: a 3-hour silence is within what it does.
  const paused = [...steady.slice(0, 30), ...steady.slice(0, 30).map((m) => m + 270 * MIN)];
  assert.equal(silenceOf(paused, paused.at(-1)! + 180 * MIN, 3, 10 * MIN), null);
});
