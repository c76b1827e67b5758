import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deliveriesSearch, parseDeliveriesParams } from '@/app/(dashboard)/deliveries/search-params';
import { overviewSearch, parseOverviewParams } from '@/app/(dashboard)/search-params';
import { parseLoginParams } from '@/app/login/search-params';
import { deliveriesQuerySchema, dlqBulkRetryBodySchema, metricsQuerySchema } from '@/lib/api/schemas';

test('page params fall back to defaults instead of failing, and defaults stay out of the URL', () => {
  assert.deepEqual(parseOverviewParams({ range: 'forever', event_type: '<script>' }), {
    range: '1h',
    event_type: undefined,
  });
  assert.equal(overviewSearch({ range: '1h' }), '');
  assert.equal(
    overviewSearch({ range: '7d', event_type: 'contact.created' }),
    '?range=7d&event_type=contact.created',
  );
  const d = parseDeliveriesParams({ outcome: 'accepted', live: '1', q: ['abc', 'def'] });
  assert.deepEqual(d, { range: '24h', outcome: 'accepted', q: 'abc', live: true });
  assert.equal(deliveriesSearch(d), '?outcome=accepted&q=abc&live=1');
  // A search the API would refuse (NUL, control characters, a lone surrogate) is dropped, not sent.
  for (const q of ['a\u0000b', '\u0007', '\ud83d']) assert.equal(parseDeliveriesParams({ q }).q, undefined);
});

test('login only redirects to local paths', () => {
  assert.equal(parseLoginParams({ next: '/dlq?x=1' }).next, '/dlq?x=1');
  for (const bad of ['//evil.example', 'https://evil.example', '/\\evil.example', 'javascript:alert(1)']) {
    assert.equal(parseLoginParams({ next: bad }).next, '/', bad);
  }
  assert.equal(parseLoginParams({}).next, '/');
});

test('API schemas are strict and bounded', () => {
  assert.equal(deliveriesQuerySchema.safeParse({ limit: '0' }).success, false);
  assert.equal(deliveriesQuerySchema.safeParse({ limit: '201' }).success, false);
  assert.equal(deliveriesQuerySchema.safeParse({ limit: '2.5' }).success, false);
  assert.equal(deliveriesQuerySchema.safeParse({ extra: '1' }).success, false);
  assert.equal(deliveriesQuerySchema.safeParse({ q: 'x'.repeat(201) }).success, false);
  assert.equal(
    deliveriesQuerySchema.safeParse({ from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }).success,
    false,
  );
  assert.equal(deliveriesQuerySchema.parse({}).limit, 50);
  assert.equal(dlqBulkRetryBodySchema.safeParse({ ids: [] }).success, false);
  assert.equal(dlqBulkRetryBodySchema.safeParse({ ids: [1, -2] }).success, false);
  assert.equal(dlqBulkRetryBodySchema.safeParse({ event_type: 'message.received' }).success, true);
  const m = metricsQuerySchema.parse({});
  assert.equal(m.to.getTime() - m.from.getTime(), 3_600_000);
  assert.equal(
    metricsQuerySchema.safeParse({ from: '2020-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }).success,
    false,
  );
});
