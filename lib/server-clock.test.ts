import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServerClock } from './server-clock';

const header = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toUTCString();

test('a browser clock 5 min fast: answers over a few seconds narrow the offset to under half a second', () => {
  const c = new ServerClock();
  assert.equal(c.offsetMs, 0, 'nothing known before the first answer');
  const skew = -300_000;
  // Requests 30 ms long, sent at odd moments within the server's seconds.
  for (const server of [1_000_120, 1_001_730, 1_003_410, 1_004_980, 1_006_555]) {
    c.noteDateHeader(header(server + 15), server - skew, server - skew + 30);
  }
  assert.ok(Math.abs(c.offsetMs - skew) < 500, `offset ${c.offsetMs}`);
});

test('a clock set meanwhile: the bounds disagree and the newest answer wins', () => {
  const c = new ServerClock();
  for (const t of [2_000_100, 2_001_600, 2_003_300]) c.noteDateHeader(header(t), t + 60_000, t + 60_020);
  assert.ok(Math.abs(c.offsetMs + 60_000) < 1000);
  // The browser's clock is corrected: it now agrees with the server.
  c.noteDateHeader(header(2_005_400), 2_005_400, 2_005_420);
  assert.ok(Math.abs(c.offsetMs) < 1000, `offset ${c.offsetMs}`);
});

test('a missing or unreadable Date header changes nothing', () => {
  const c = new ServerClock();
  c.noteDateHeader(header(3_000_000), 3_010_000, 3_010_010);
  const before = c.offsetMs;
  c.noteDateHeader(null, 0, 10);
  c.noteDateHeader('not a date', 0, 10);
  assert.equal(c.offsetMs, before);
});

test("the page's render time alone already gives the offset within the page load", () => {
  const c = new ServerClock();
  // Asked at browser time 5,000,000 (a clock 2 h fast), rendered at server 5,000,000 − 2 h + 80 ms, hydrated 400 ms later.
  const fast = 7_200_000;
  c.note(5_000_000 - fast + 80, 1, 5_000_000, 5_000_400);
  assert.ok(Math.abs(c.offsetMs + fast) <= 200, `offset ${c.offsetMs}`);
});
