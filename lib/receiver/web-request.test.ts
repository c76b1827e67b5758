import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromWebRequest } from './web-request';

const endless = () =>
  new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new TextEncoder().encode('{"a":')) });

// A read that never settles would hang the run rather than fail it: hence the timeout.
test('a route-handler body whose client left settles the read, before or during it', {
  timeout: 5000,
}, async () => {
  const during = new AbortController();
  const req = new Request('http://x/api/webhooks/s', {
    method: 'POST',
    body: endless(),
    duplex: 'half',
    signal: during.signal,
  } as RequestInit);
  const read = fromWebRequest(req, 0).readBody(1_048_576);
  setTimeout(() => during.abort(), 20);
  await assert.rejects(read, /closed before the body ended/);

  const before = new AbortController();
  before.abort();
  const gone = new Request('http://x/api/webhooks/s', {
    method: 'POST',
    body: endless(),
    duplex: 'half',
    signal: before.signal,
  } as RequestInit);
  await assert.rejects(fromWebRequest(gone, 0).readBody(1_048_576), /closed before the body was read/);
});

test('a whole body still reads whole', async () => {
  const req = new Request('http://x/api/webhooks/s', { method: 'POST', body: '{"a":1}' });
  assert.equal(
    new TextDecoder().decode((await fromWebRequest(req, 0).readBody(100)) as Uint8Array),
    '{"a":1}',
  );
  assert.equal(
    await fromWebRequest(new Request('http://x', { method: 'POST', body: 'x'.repeat(11) }), 0).readBody(10),
    'too_large',
  );
});

test('forwarded headers name the client only when TRUST_PROXY says a proxy wrote them', () => {
  const request = () =>
    new Request('http://x/api/webhooks/s', { method: 'POST', headers: { 'x-forwarded-for': '203.0.113.7' } });
  assert.equal(fromWebRequest(request(), 0).clientAddress, null);
  assert.equal(fromWebRequest(request(), 0, 1).clientAddress, '203.0.113.7');
});
