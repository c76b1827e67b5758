import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '@/lib/errors';
import { readBodyText } from './body';

const post = (body: BodyInit | null, headers: Record<string, string> = {}) =>
  new Request('http://localhost/api/x', { method: 'POST', body, headers, duplex: 'half' } as RequestInit);

async function refused(p: Promise<unknown>, code: string) {
  await assert.rejects(p, (err) => err instanceof AppError && err.code === code);
}

test('a body within the limit is read as UTF-8 text', async () => {
  assert.equal(await readBodyText(post('{"a":"é"}'), 100), '{"a":"é"}');
  assert.equal(await readBodyText(post(null), 100), '');
});

test('a declared Content-Length over the limit is refused without reading a byte', async () => {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      pulled++;
      c.enqueue(new Uint8Array(10));
    },
  });
  await refused(readBodyText(post(stream, { 'content-length': '400000000' }), 1000), 'payload_too_large');
  // A ReadableStream pulls once to fill its queue on creation; reading would pull again.
  assert.ok(pulled <= 1, `pulled ${pulled} times`);
  await refused(readBodyText(post('x', { 'content-length': '1e3' }), 1000), 'bad_request');
});

test('a body that never ends is cancelled as soon as it passes the limit', async () => {
  let sent = 0;
  let cancelled = false;
  const endless = new ReadableStream<Uint8Array>({
    pull(c) {
      sent += 4096;
      c.enqueue(new Uint8Array(4096));
    },
    cancel() {
      cancelled = true;
    },
  });
  await refused(readBodyText(post(endless), 64 * 1024), 'payload_too_large');
  assert.ok(cancelled, 'the stream was cancelled');
  assert.ok(sent <= 64 * 1024 + 3 * 4096, `read ${sent} bytes`);
});

test('bytes that are not UTF-8 are a 400, not replacement characters', async () => {
  await refused(readBodyText(post(new Uint8Array([0x7b, 0xff, 0x7d])), 100), 'bad_request');
});
