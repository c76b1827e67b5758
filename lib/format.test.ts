import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAge, formatMs, formatPct, formatTick, formatTime, prettyJson, zoneLabel } from './format';

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

test('times in UTC and in another zone name the same moment', () => {
  const iso = '2026-01-31T23:35:09.123Z';
  assert.equal(formatTime(iso, 'UTC'), '2026-01-31 23:35:09');
  // +05:30 crosses midnight: the date changes with the zone, not only the hour.
  assert.equal(formatTime(iso, 'Asia/Kolkata'), '2026-02-01 05:05:09');
  // Summer time: New York is UTC-4 in July, UTC-5 in January.
  assert.equal(formatTime('2026-07-01T12:00:00Z', 'America/New_York'), '2026-07-01 08:00:00');
  assert.equal(formatTime('2026-01-01T12:00:00Z', 'America/New_York'), '2026-01-01 07:00:00');
  // An offset in the input is read as the moment it names.
  assert.equal(formatTime('2026-01-31T14:05:09+02:00', 'UTC'), '2026-01-31 12:05:09');
  assert.equal(formatTime(null, 'Asia/Kolkata'), '—');
  assert.equal(formatTime('not a time'), '—');
});

test('chart ticks follow the zone', () => {
  assert.equal(formatTick('2026-01-31T23:35:00Z', false, 'UTC'), '23:35');
  assert.equal(formatTick('2026-01-31T23:35:00Z', false, 'Asia/Kolkata'), '05:05');
  assert.equal(formatTick('2026-01-31T23:35:00Z', true, 'UTC'), 'Jan 31 23:35');
  assert.equal(formatTick('2026-01-31T23:35:00Z', true, 'Asia/Kolkata'), 'Feb 1 05:05');
  assert.equal(zoneLabel('UTC'), 'UTC');
  assert.equal(zoneLabel('Europe/Paris'), 'Europe/Paris');
});

test('prettyJson keeps non-JSON text as it is', () => {
  assert.equal(prettyJson('{"a":1}'), '{\n  "a": 1\n}');
  assert.equal(prettyJson('<img src=x onerror=alert(1)>'), '<img src=x onerror=alert(1)>');
});

test('prettyJson shows numbers as written, past what a double holds', () => {
  assert.equal(
    prettyJson('{"id":9007199254740993,"amount":1e400,"n":1.5}'),
    '{\n  "id": 9007199254740993,\n  "amount": 1e400,\n  "n": 1.5\n}',
  );
});
