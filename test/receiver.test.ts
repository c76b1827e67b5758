import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { rowsOf } from '@/db/client';
import { total } from '@/db/histogram';
import { listDeliveries } from '@/db/queries/deliveries';
import { events, receiptAcks, receipts } from '@/db/schema';
import { sign } from '@/lib/providers/skylight/signature';
import { post, signedDelivery, uniqueId } from './helpers/deliveries';
import { type ReceiverServer, startReceiverServer } from './helpers/receiver-server';

const SECRET = 'whsec_test_current_secret_0123456789abcdef0123456789abcdef0123456789ab';
const OLD_SECRET = 'old-secret-still-valid-during-rotation-0123456789abcdef0123456789abcd';
const LIMIT = 4096;

let s: ReceiverServer;
before(async () => {
  s = await startReceiverServer({ secrets: [SECRET, OLD_SECRET], maxBodyBytes: LIMIT, worker: false });
});
after(() => s.close());

async function receiptFor(deliveryId: string) {
  await s.recorder.flush();
  return s.db.db.select().from(receipts).where(eq(receipts.deliveryId, deliveryId));
}
async function eventsFor(deliveryId: string) {
  return s.db.db.select().from(events).where(eq(events.deliveryId, deliveryId));
}

describe('signature', () => {
  test('valid signature: 200, receipt accepted and one pending event', async () => {
    const d = signedDelivery(SECRET);
    const r = await post(s.url, d);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { received: true, duplicate: false });
    const [rec] = await receiptFor(d.deliveryId);
    assert.equal(rec?.outcome, 'accepted');
    assert.equal(rec?.httpStatus, 200);
    assert.equal(rec?.headers['x-skylight-signature'], '[redacted]');
    const ev = await eventsFor(d.deliveryId);
    assert.equal(ev.length, 1);
    assert.equal(ev[0]!.status, 'pending');
    assert.equal(rec?.eventId, ev[0]!.id);
  });

  const cases: Array<[string, (d: ReturnType<typeof signedDelivery>) => void, string]> = [
    ['missing', (d) => delete d.headers['x-skylight-signature'], 'signature_missing'],
    ['empty', (d) => (d.headers['x-skylight-signature'] = ''), 'signature_missing'],
    [
      'not sha256=',
      (d) =>
        (d.headers['x-skylight-signature'] = d.headers['x-skylight-signature']!.replace('sha256=', 'sha1=')),
      'signature_malformed',
    ],
    [
      'wrong secret',
      (d) => (d.headers['x-skylight-signature'] = sign(d.body, 'some-other-secret')),
      'signature_mismatch',
    ],
    [
      'wrong length',
      (d) => (d.headers['x-skylight-signature'] = d.headers['x-skylight-signature']!.slice(0, -2)),
      'signature_malformed',
    ],
    [
      'non-hex',
      (d) => (d.headers['x-skylight-signature'] = `sha256=${'z'.repeat(64)}`),
      'signature_malformed',
    ],
    [
      'upper-case hex',
      (d) =>
        (d.headers['x-skylight-signature'] = d.headers['x-skylight-signature']!.toUpperCase().replace(
          'SHA256=',
          'sha256=',
        )),
      'signature_malformed',
    ],
  ];
  for (const [name, mutate, reason] of cases) {
    test(`${name}: 400, recorded as rejected (${reason}), nothing queued`, async () => {
      const d = signedDelivery(SECRET);
      mutate(d);
      const r = await post(s.url, d);
      assert.equal(r.status, 400);
      assert.equal((r.json as { error: { code: string } }).error.code, 'bad_request');
      const recs = await receiptFor(d.deliveryId);
      assert.equal(recs.length, 1);
      assert.equal(recs[0]!.outcome, 'rejected');
      assert.equal(recs[0]!.reason, reason);
      assert.equal(recs[0]!.httpStatus, 400);
      assert.equal((await eventsFor(d.deliveryId)).length, 0);
    });
  }

  test('rotated secret list: a delivery signed with the older secret is accepted', async () => {
    const d = signedDelivery(OLD_SECRET);
    const r = await post(s.url, d);
    assert.equal(r.status, 200);
    assert.equal((await eventsFor(d.deliveryId)).length, 1);
  });

  test('body changed by one byte after signing: 400 mismatch', async () => {
    const d = signedDelivery(SECRET);
    const tampered = d.body.replace('Test Contact', 'Test Contacu');
    assert.notEqual(tampered, d.body);
    const r = await post(s.url, { ...d, body: tampered });
    assert.equal(r.status, 400);
    assert.equal((await receiptFor(d.deliveryId))[0]?.reason, 'signature_mismatch');
    assert.equal((await eventsFor(d.deliveryId)).length, 0);
  });
});

describe('size', () => {
  function padded(total: number) {
    const deliveryId = `size-${uniqueId()}`;
    const head = JSON.stringify({
      event: 'contact.created',
      delivery_id: deliveryId,
      timestamp: Math.floor(Date.now() / 1000),
      data: { id: uniqueId(), note: '' },
    });
    const body = head.replace('"note":""', `"note":"${'x'.repeat(total - head.length)}"`);
    assert.equal(Buffer.byteLength(body), total);
    return {
      deliveryId,
      body,
      headers: { 'content-type': 'application/json', 'x-skylight-signature': sign(body, SECRET) },
    };
  }

  test('exactly at the limit: accepted', async () => {
    const d = padded(LIMIT);
    assert.equal((await post(s.url, d)).status, 200);
    assert.equal((await eventsFor(d.deliveryId)).length, 1);
  });

  test('one byte over: 413, recorded as rejected without a body', async () => {
    const d = padded(LIMIT + 1);
    const r = await post(s.url, d);
    assert.equal(r.status, 413);
    assert.equal(r.json && (r.json as { error: { code: string } }).error.code, 'payload_too_large');
    await s.recorder.flush();
    const rows = rowsOf<{ reason: string; body: string | null; outcome: string }>(
      await s.db.db.execute(sql`select reason, body, outcome from receipts where body_bytes = ${LIMIT + 1}`),
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.outcome, 'rejected');
    assert.equal(rows[0]!.reason, 'body_too_large');
    assert.equal(rows[0]!.body, null);
    assert.equal((await eventsFor(d.deliveryId)).length, 0);
  });
});

describe('envelope', () => {
  test('shape A (nested data, ISO timestamp): accepted with delivery lag from the body timestamp', async () => {
    const ts = new Date(Date.now() - 5000).toISOString().replace('Z', '000Z');
    const d = signedDelivery(SECRET, {
      event: 'message.received',
      timestamp: ts,
      data: {
        message: {
          id: uniqueId(),
          direction: 'inbound',
          channel: 'telegram',
          content: 'hi',
          status: 'received',
        },
        contact: { id: 77, name: 'Omar K.' },
      },
    });
    assert.equal((await post(s.url, d)).status, 200);
    const [rec] = await receiptFor(d.deliveryId);
    assert.equal(rec?.outcome, 'accepted');
    assert.ok(rec!.lagMs! >= 5000 && rec!.lagMs! < 60_000, `lag ${rec!.lagMs}`);
  });

  test('lag counts once per event, from the signed body only: replays and the unsigned header add none', async () => {
    s.rollups.take();
    const d = signedDelivery(SECRET, { timestamp: new Date(Date.now() - 3000).toISOString() });
    assert.equal((await post(s.url, d)).status, 200);
    d.headers['x-skylight-timestamp'] = '1';
    for (let i = 0; i < 5; i++) assert.equal((await post(s.url, d)).status, 200);
    const cells = s.rollups.take();
    assert.equal(
      cells.reduce((n, c) => n + c.count, 0),
      6,
      'every request is counted with its outcome',
    );
    assert.equal(
      cells.reduce((n, c) => n + total(c.lag), 0),
      1,
      'one lag sample',
    );
    // A body without a timestamp has no lag: the header does not stand in for it.
    const bare = signedDelivery(SECRET, {});
    const body = JSON.parse(bare.body) as Record<string, unknown>;
    delete body.timestamp;
    bare.body = JSON.stringify(body);
    bare.headers['x-skylight-signature'] = sign(bare.body, SECRET);
    bare.headers['x-skylight-timestamp'] = '1';
    assert.equal((await post(s.url, bare)).status, 200);
    const [rec] = await receiptFor(bare.deliveryId);
    assert.deepEqual([rec?.outcome, rec?.providerTs, rec?.lagMs], ['accepted', null, null]);
  });

  test('shape B (flat data, Unix timestamp): accepted', async () => {
    const d = signedDelivery(SECRET, {
      event: 'message.received',
      timestamp: Math.floor(Date.now() / 1000) - 2,
      data: {
        id: uniqueId(),
        contact_id: 77,
        value: 'hi',
        message_type: 'text',
        message_by: 'contact',
        status: 'received',
        source: 'telegram',
      },
    });
    assert.equal((await post(s.url, d)).status, 200);
    const [rec] = await receiptFor(d.deliveryId);
    assert.equal(rec?.outcome, 'accepted');
    assert.ok(rec!.providerTs instanceof Date);
  });

  const malformed: Array<[string, string, string]> = [
    ['not JSON', '{"event": "contact.created", oops', 'body is not JSON'],
    ['JSON but not an object', '[1,2,3]', 'body is not a JSON object'],
    ['missing event', JSON.stringify({ data: {} }), 'event: is required'],
  ];
  for (const [name, body, reason] of malformed) {
    test(`${name}: 200, recorded as malformed with the reason, nothing queued`, async () => {
      const marker = `malformed-${uniqueId()}`;
      const r = await post(s.url, {
        body,
        headers: {
          'content-type': 'application/json',
          'x-skylight-delivery': marker,
          'x-skylight-signature': sign(body, SECRET),
        },
      });
      assert.equal(r.status, 200);
      const recs = await receiptFor(marker);
      assert.equal(recs.length, 1, 'receipt recorded under the header delivery id');
      assert.equal(recs[0]!.outcome, 'malformed');
      assert.equal(recs[0]!.reason, reason);
      assert.equal(recs[0]!.body, body);
      assert.equal((await eventsFor(marker)).length, 0);
    });
  }

  test('unknown event type: 200, recorded as ignored, nothing queued', async () => {
    const d = signedDelivery(SECRET, { event: 'ticket.escalated', data: { id: uniqueId() } });
    assert.equal((await post(s.url, d)).status, 200);
    const [rec] = await receiptFor(d.deliveryId);
    assert.equal(rec?.outcome, 'ignored');
    assert.equal(rec?.reason, 'unknown_event_type');
    assert.equal((await eventsFor(d.deliveryId)).length, 0);
  });
});

describe('dedupe', () => {
  test('same delivery twice in sequence: second is a duplicate of the first event', async () => {
    const d = signedDelivery(SECRET);
    assert.deepEqual((await post(s.url, d)).json, { received: true, duplicate: false });
    assert.deepEqual((await post(s.url, d)).json, { received: true, duplicate: true });
    const recs = await receiptFor(d.deliveryId);
    assert.deepEqual(recs.map((r) => r.outcome).sort(), ['accepted', 'duplicate']);
    const ev = await eventsFor(d.deliveryId);
    assert.equal(ev.length, 1);
    assert.equal(recs.find((r) => r.outcome === 'duplicate')?.reason, 'delivery_id');
    assert.equal(recs.find((r) => r.outcome === 'duplicate')?.eventId, ev[0]!.id);
  });

  test('the same delivery 20 times concurrently: one event, 19 duplicates', async () => {
    const d = signedDelivery(SECRET);
    const results = await Promise.all(Array.from({ length: 20 }, () => post(s.url, d)));
    assert.ok(results.every((r) => r.status === 200));
    assert.equal(results.filter((r) => r.json?.duplicate === false).length, 1);
    assert.equal((await eventsFor(d.deliveryId)).length, 1);
    const recs = await receiptFor(d.deliveryId);
    assert.equal(recs.length, 20);
    assert.equal(recs.filter((r) => r.outcome === 'duplicate').length, 19);
  });

  test('same content with a new delivery id: fingerprint duplicate, no second event', async () => {
    const data = { contact: { id: uniqueId(), name: 'Retry With New Id' } };
    const a = signedDelivery(SECRET, { data, timestamp: Math.floor(Date.now() / 1000) });
    const b = signedDelivery(SECRET, { data, timestamp: Math.floor(Date.now() / 1000) });
    assert.equal((await post(s.url, a)).json?.duplicate, false);
    assert.equal((await post(s.url, b)).json?.duplicate, true);
    const [rec] = await receiptFor(b.deliveryId);
    assert.equal(rec?.outcome, 'duplicate');
    assert.equal(rec?.reason, 'fingerprint');
    assert.equal((await eventsFor(b.deliveryId)).length, 0);
    assert.equal(rec?.eventId, (await eventsFor(a.deliveryId))[0]!.id);
  });

  test('a key-order change in data is still the same fingerprint', async () => {
    const id = uniqueId();
    const a = signedDelivery(SECRET, { data: { contact: { id, name: 'K' } } });
    const b = signedDelivery(SECRET, { data: { contact: { name: 'K', id } } });
    await post(s.url, a);
    assert.equal((await post(s.url, b)).json?.duplicate, true);
  });
});

test('the exact post-commit ack time is written beside the receipt, and the delivery API shows it', async () => {
  const d = signedDelivery(SECRET);
  await post(s.url, d);
  await s.commit.drain();
  const [rec] = await receiptFor(d.deliveryId);
  const [exact] = await s.db.db.select().from(receiptAcks).where(eq(receiptAcks.receiptId, rec!.id));
  // The receipt keeps the provisional time (before its write); the exact one includes the COMMIT.
  assert.ok(exact, 'an ack time row for the receipt');
  assert.ok(
    exact.ackMs >= rec!.ackMs && exact.ackMs < 5000,
    `exact ${exact.ackMs} vs provisional ${rec!.ackMs}`,
  );
  const [listed] = (await listDeliveries(s.db.db, { q: d.deliveryId }, { limit: 5 })).rows;
  assert.equal(listed!.ack_ms, exact.ackMs);
});

test('hmac helper agrees with an independent computation', () => {
  const body = '{"a":1}';
  assert.equal(sign(body, 'k'), `sha256=${createHmac('sha256', 'k').update(body).digest('hex')}`);
});
