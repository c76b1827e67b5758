import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Sandbox, startSandbox } from '@/lib/providers/skylight/sandbox/server';
import { rawExchange } from './helpers/raw-http';

// The sandbox's own HTTP server (management API and control routes) refuses bodies over 1 MiB by
// their declared length before reading, and cancels a chunked one as it passes the limit.

let sandbox: Sandbox;
let port: number;
before(async () => {
  sandbox = await startSandbox();
  port = Number(new URL(sandbox.origin).port);
});
after(() => sandbox.stop());

const head = (path: string, framing: string) =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Api-Key: ${sandbox.apiKey}\r\n` +
  `Content-Type: application/json\r\n${framing}\r\n`;

for (const path of ['/api/v1/webhooks', '/_sandbox/send']) {
  test(`${path}: a declared Content-Length over 1 MiB is a 413 before any body is sent`, async () => {
    const started = performance.now();
    const res = await rawExchange(
      port,
      async (io) => void (await io.write(head(path, 'Content-Length: 400000000\r\n'))),
    );
    assert.equal(res.status, 413, res.head);
    assert.ok(performance.now() - started < 2000);
  });

  test(`${path}: a chunked body past 1 MiB is a 413 while it is still being sent`, async () => {
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const framed = Buffer.concat([
      Buffer.from(`${chunk.length.toString(16)}\r\n`),
      chunk,
      Buffer.from('\r\n'),
    ]);
    const res = await rawExchange(
      port,
      async (io) => {
        if (!(await io.write(head(path, 'Transfer-Encoding: chunked\r\n')))) return;
        for (let i = 0; i < 1024 && (await io.write(framed)); i++);
      },
      { timeoutMs: 10_000 },
    );
    assert.equal(res.status, 413, res.head);
    assert.ok(res.bytesWritten < 8 * 2 ** 20, `${res.bytesWritten} bytes sent before the answer`);
  });
}

test('a body within the limit still works', async () => {
  const before = (await sandbox.core.store.listWebhooks()).length;
  const res = await fetch(`${sandbox.apiUrl}/webhooks`, {
    method: 'POST',
    headers: { 'x-api-key': sandbox.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'Limit check',
      url: 'https://ops.example/hook',
      events: ['contact.created'],
    }),
  });
  assert.equal(res.status, 201, await res.text());
  assert.equal((await sandbox.core.store.listWebhooks()).length, before + 1);
});
