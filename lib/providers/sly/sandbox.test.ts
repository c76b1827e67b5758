import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { SlySandboxSender } from './sandbox';
import { verifySignature } from './signature';

test('sandbox sender: a failed attempt is retried, signed afresh, same event id, new delivery id', async () => {
  const seen: Array<{ eventId: string; deliveryId: string; valid: boolean }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({
        eventId: String(req.headers['x-sly-event-id']),
        deliveryId: String(req.headers['x-sly-delivery-id']),
        valid: verifySignature(body, String(req.headers['x-sly-signature']), ['whsec_k'], new Date()).ok,
      });
      // The first attempt fails as a receiver outage would; the retry succeeds.
      res.writeHead(seen.length === 1 ? 503 : 200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    const sender = new SlySandboxSender({
      url: `http://127.0.0.1:${port}/`,
      secret: 'whsec_k',
      retryDelaysMs: [5],
    });
    const sent = await sender.send({ type: 'transfer.completed', data: {} }, { duplicates: 1 });
    assert.deepEqual(
      sent.attempts.map((a) => a.status),
      [503, 200, 200],
    );
    assert.equal(seen.length, 3);
    assert.ok(seen.every((s) => s.valid && s.eventId === sent.dedupeId));
    assert.equal(new Set(seen.map((s) => s.deliveryId)).size, 3);
    assert.match(sent.dedupeId, /^evt_/);
  } finally {
    server.close();
  }
});

test('sandbox sender: attempts stop when retries are used up', async () => {
  const server = createServer((_req, res) => res.writeHead(500).end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    const sender = new SlySandboxSender({
      url: `http://127.0.0.1:${port}/`,
      secret: 'k',
      retryDelaysMs: [1, 1],
    });
    const sent = await sender.send({ type: 'transfer.failed', data: {} });
    assert.deepEqual(
      sent.attempts.map((a) => a.status),
      [500, 500, 500],
    );
  } finally {
    server.close();
  }
});
