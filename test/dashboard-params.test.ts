import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deliveriesUrl, loadDeliveriesParams } from '@/app/(dashboard)/deliveries/search-params';
import { loadDlqParams } from '@/app/(dashboard)/dlq/search-params';
import { loadOverviewParams, overviewUrl } from '@/app/(dashboard)/search-params';
import { parseLoginParams } from '@/app/login/search-params';
import { deliveriesQuerySchema, dlqBulkRetryBodySchema, metricsQuerySchema } from '@/lib/api/schemas';

test('page params fall back to defaults instead of failing, and defaults stay out of the URL', async () => {
  assert.deepEqual(await loadOverviewParams({ range: 'forever', event_type: '<script>', source: '../x' }), {
    range: '1h',
    event_type: null,
    source: null,
    from: null,
    to: null,
  });
  // A custom range survives the URL round trip; a malformed end is dropped (the page then shows the preset).
  const custom = await loadOverviewParams({
    from: '2026-03-01T02:10:00Z',
    to: '2026-03-01T02:40:00+00:00',
    range: '6h',
  });
  assert.equal(custom.from?.toISOString(), '2026-03-01T02:10:00.000Z');
  assert.equal(
    overviewUrl('/', custom),
    '/?range=6h&from=2026-03-01T02:10:00.000Z&to=2026-03-01T02:40:00.000Z',
  );
  assert.equal((await loadOverviewParams({ from: '2026-03-01', to: 'now' })).from, null);
  assert.equal(overviewUrl('/', { range: '1h' }), '/');
  assert.equal(
    overviewUrl('/', { range: '7d', event_type: 'contact.created' }),
    '/?range=7d&event_type=contact.created',
  );
  assert.equal(overviewUrl('/', { range: '1h', source: 'sly' }), '/?source=sly');
  const d = await loadDeliveriesParams({
    outcome: 'accepted,nonsense,rejected',
    live: '1',
    q: ['abc', 'def'],
  });
  assert.deepEqual(d, {
    range: '24h',
    source: null,
    outcome: ['accepted', 'rejected'],
    status: null,
    event_type: null,
    q: 'abc',
    text: null,
    path: null,
    value: null,
    live: true,
    from: null,
    to: null,
  });
  assert.equal(deliveriesUrl('/deliveries', d), '/deliveries?outcome=accepted,rejected&q=abc&live=1');
  assert.deepEqual(
    await loadDlqParams({ selected: '12abc', error: '  '.repeat(3), failure: 'maybe', sort: 'random' }),
    {
      source: null,
      event_type: null,
      failure: null,
      error: null,
      q: null,
      text: null,
      path: null,
      value: null,
      selected: null,
      range: 'all',
      from: null,
      to: null,
      sort: null,
    },
  );
  // A search the API would refuse (NUL, control characters) is dropped, not sent. (A lone surrogate
  // cannot survive a URL: its percent-encoded bytes decode to U+FFFD.)
  for (const q of ['a\u0000b', '\u0007']) assert.equal((await loadDeliveriesParams({ q })).q, null);
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
