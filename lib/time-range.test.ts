import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAsIsoTime } from './api/page-params';
import { deliveriesQuerySchema, dlqQuerySchema, metricsQuerySchema } from './api/schemas';
import { fromWallClock, rangeParams, resolveRange, spanMs, toWallClock } from './time-range';

const NOW = Date.parse('2026-03-10T12:00:00Z');
const d = (s: string) => new Date(s);

test('a preset ends now; a valid custom range wins over it; an invalid one reads as the preset', () => {
  assert.deepEqual(resolveRange({ range: '1h' }, NOW), {
    from: d('2026-03-10T11:00:00Z'),
    to: d('2026-03-10T12:00:00Z'),
    custom: false,
  });
  const custom = { range: '1h' as const, from: d('2026-03-01T02:10:00Z'), to: d('2026-03-01T02:40:00Z') };
  assert.deepEqual(resolveRange(custom, NOW), { from: custom.from, to: custom.to, custom: true });
  assert.equal(spanMs(custom), 30 * 60_000);
  // Reversed, empty and over-long ranges are not used.
  assert.equal(resolveRange({ ...custom, from: custom.to, to: custom.from }, NOW).custom, false);
  assert.equal(resolveRange({ ...custom, to: custom.from }, NOW).custom, false);
  assert.equal(
    resolveRange({ range: '1h', from: d('2024-01-01T00:00:00Z'), to: d('2026-01-01T00:00:00Z') }, NOW).custom,
    false,
  );
  // Only one end given: the preset.
  assert.equal(resolveRange({ range: '24h', from: custom.from, to: null }, NOW).custom, false);
  assert.deepEqual(resolveRange({ range: 'all' }, NOW), { custom: false });
  assert.deepEqual(rangeParams({ range: 'all' }), { from: undefined, to: undefined });
  assert.deepEqual(rangeParams(custom), { from: '2026-03-01T02:10:00.000Z', to: '2026-03-01T02:40:00.000Z' });
});

test('the URL parser takes ISO moments with a zone and nothing else', () => {
  assert.equal(parseAsIsoTime.parse('2026-03-01T02:10:00Z')?.toISOString(), '2026-03-01T02:10:00.000Z');
  assert.equal(
    parseAsIsoTime.parse('2026-03-01T02:10:00.5+02:00')?.toISOString(),
    '2026-03-01T00:10:00.500Z',
  );
  for (const bad of ['2026-03-01', '2026-03-01T02:10', 'yesterday', '2026-13-01T00:00:00Z', '1e12', '']) {
    assert.equal(parseAsIsoTime.parse(bad), null, bad);
  }
  assert.equal(parseAsIsoTime.serialize(d('2026-03-01T02:10:00Z')), '2026-03-01T02:10:00.000Z');
});

test('pickers read wall-clock time in the chosen zone', () => {
  assert.equal(fromWallClock('2026-03-01T02:10', 'UTC')?.toISOString(), '2026-03-01T02:10:00.000Z');
  assert.equal(fromWallClock('2026-03-01T07:40', 'Asia/Kolkata')?.toISOString(), '2026-03-01T02:10:00.000Z');
  // Either side of New York's spring-forward (2026-03-08 02:00 local): -05:00 before, -04:00 after.
  assert.equal(
    fromWallClock('2026-03-08T01:30', 'America/New_York')?.toISOString(),
    '2026-03-08T06:30:00.000Z',
  );
  assert.equal(
    fromWallClock('2026-03-08T03:30', 'America/New_York')?.toISOString(),
    '2026-03-08T07:30:00.000Z',
  );
  assert.equal(fromWallClock('', 'UTC'), null);
  assert.equal(fromWallClock('2026-03-01 02:10', 'UTC'), null);
  for (const tz of ['UTC', 'Asia/Kolkata', 'America/New_York']) {
    const t = d('2026-07-04T18:45:00Z');
    assert.equal(fromWallClock(toWallClock(t, tz), tz)?.toISOString(), t.toISOString(), tz);
  }
  assert.equal(toWallClock(d('2026-07-04T18:45:30Z'), 'Asia/Kolkata'), '2026-07-05T00:15');
});

test('the API refuses a reversed or over-long range with a message naming it, on every list', () => {
  const issue = (r: {
    success: boolean;
    error?: { issues: Array<{ message: string; path: PropertyKey[] }> };
  }) => (r.success ? null : { message: r.error?.issues[0]?.message, path: r.error?.issues[0]?.path });
  const reversed = { from: '2026-03-02T00:00:00Z', to: '2026-03-01T00:00:00Z' };
  const tooLong = { from: '2024-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' };
  for (const schema of [deliveriesQuerySchema, dlqQuerySchema, metricsQuerySchema]) {
    assert.deepEqual(issue(schema.safeParse(reversed)), {
      message: '`from` must be before `to`',
      path: ['from'],
    });
    assert.deepEqual(issue(schema.safeParse({ from: reversed.from, to: reversed.from })), {
      message: '`from` must be before `to`',
      path: ['from'],
    });
    assert.deepEqual(issue(schema.safeParse(tooLong)), {
      message: 'range too long: at most 400 days',
      path: ['from'],
    });
    assert.equal(schema.safeParse({ from: 'yesterday' }).success, false);
  }
  const ok = dlqQuerySchema.parse({ from: '2026-03-01T02:10:00+01:00', to: '2026-03-01T02:40:00Z' });
  assert.equal(ok.from?.toISOString(), '2026-03-01T01:10:00.000Z');
  assert.equal(ok.to?.toISOString(), '2026-03-01T02:40:00.000Z');
});
