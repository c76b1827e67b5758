import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAge, formatMs, formatPct, formatTime, prettyJson } from './format';

test('durations read naturally', () => {
  assert.equal(formatMs(null), '—');
  assert.equal(formatMs(0.5), '0.50 ms');
  assert.equal(formatMs(4.25), '4.3 ms');
  assert.equal(formatMs(250), '250 ms');
  assert.equal(formatMs(1500), '1.50 s');
  assert.equal(formatAge(125_000), '2 min');
  assert.equal(formatAge(3 * 3600_000 + 60_000), '3 h 1 min');
  assert.equal(formatAge(5 * 86_400_000), '5 d');
});

test('percentages and times', () => {
  assert.equal(formatPct(0.0123), '1.2 %');
  assert.equal(formatPct(0.5), '50 %');
  assert.equal(formatTime('2026-01-31T14:05:09.123Z'), '2026-01-31 14:05:09');
});

test('prettyJson keeps non-JSON text as it is', () => {
  assert.equal(prettyJson('{"a":1}'), '{\n  "a": 1\n}');
  assert.equal(prettyJson('<img src=x onerror=alert(1)>'), '<img src=x onerror=alert(1)>');
});
