import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { createGzip } from 'node:zlib';
import { eq, like, sql } from 'drizzle-orm';
import { rowsOf } from '@/db/client';
import { events, receipts } from '@/db/schema';
import { storableJsonText } from '@/lib/json';
import { sign } from '@/lib/providers/skylight/signature';
import { post, signedDelivery, uniqueId } from './helpers/deliveries';
import { buildRequest, type RawIo, rawExchange, rawRequest } from './helpers/raw-http';
import { type ReceiverServer, startReceiverServer } from './helpers/receiver-server';

// Hostile input against the real receiver over real HTTP. Every case checks the answer, what was
// stored (and that nothing was queued or half-written), and that a valid delivery still goes through.

const SECRET = 'whsec_hostile_0123456789abcdef0123456789abcdef0123456789abcdef01234567';
/** The app's default RECEIVER_MAX_BODY_BYTES, so the size cases test the real limit. */
const LIMIT = 1_048_576;
const PATH = '/api/webhooks/skylightchat';
/** Any C0/C1 control character, DEL included: none may reach a stored header-derived value. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Every refusal kept in full: these cases look at what one refusal stores (sampling has its own test). */
const UNSAMPLED = {
  detailedPerClient: 1e9,
  rowsPerClient: 1e9,
  detailedTotal: 1e9,
  rowsTotal: 1e9,
  maxClients: 1e9,
};

let s: ReceiverServer;
let port: number;
before(async () => {
  s = await startReceiverServer({
    secrets: [SECRET],
    maxBodyBytes: LIMIT,
    worker: false,
    refusalLimits: UNSAMPLED,
  });
  port = Number(new URL(s.url).port);
});
after(() => s.close());

let seq = 0;
/** A delivery id unique to one case; sent as X-Skylight-Delivery so even refused requests can be found. */
function marker(tag: string) {
  return `hostile-${tag}-${++seq}-${uniqueId()}`;
}

function envelope(deliveryId: string, data: unknown) {
  return JSON.stringify({
    event: 'contact.created',
    delivery_id: deliveryId,
    timestamp: Math.floor(Date.now() / 1000),
    data,
  });
}

/** A signed request for an arbitrary raw body. */
function signedRaw(body: string | Uint8Array, mark: string, headers: Record<string, string> = {}) {
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-skylight-delivery': mark,
      'x-skylight-signature': sign(body, SECRET),
      ...headers,
    },
  };
}

async function receiptsFor(deliveryId: string) {
  await s.recorder.flush();
  return s.db.db.select().from(receipts).where(eq(receipts.deliveryId, deliveryId));
}
async function receiptsLike(prefix: string) {
  await s.recorder.flush();
  return s.db.db
    .select()
    .from(receipts)
    .where(like(receipts.deliveryId, `${prefix}%`));
}
async function eventsFor(deliveryId: string) {
  return s.db.db.select().from(events).where(eq(events.deliveryId, deliveryId));
}
async function receiptCount() {
  await s.recorder.flush();
  const [r] = rowsOf<{ n: number }>(await s.db.db.execute(sql`select count(*)::int as n from receipts`));
  return Number(r!.n);
}
async function eventCount() {
  const [r] = rowsOf<{ n: number }>(await s.db.db.execute(sql`select count(*)::int as n from events`));
  return Number(r!.n);
}

/** Exactly one receipt under this id, with this outcome; returns it. */
async function oneReceipt(
  deliveryId: string,
  want: { outcome: string; reason?: string | RegExp; httpStatus: number },
) {
  const recs = await receiptsFor(deliveryId);
  assert.equal(recs.length, 1, `one receipt for ${deliveryId.slice(0, 60)}, got ${recs.length}`);
  const rec = recs[0]!;
  assert.equal(rec.outcome, want.outcome, `outcome (reason: ${rec.reason})`);
  assert.equal(rec.httpStatus, want.httpStatus);
  if (typeof want.reason === 'string') assert.equal(rec.reason, want.reason);
  else if (want.reason) assert.match(rec.reason ?? '', want.reason);
  return rec;
}

/** A refused request: 400, recorded as rejected with the reason, nothing queued. */
async function expectRejected(mark: string, status: number, reason: string) {
  assert.equal(status, 400);
  const rec = await oneReceipt(mark, { outcome: 'rejected', reason, httpStatus: 400 });
  assert.equal(rec.eventId, null);
  assert.equal(rec.headers['x-skylight-signature'] ?? '[redacted]', '[redacted]');
  assert.ok((rec.body ?? '').length <= 2048, 'unsigned bodies are kept only as a short hint');
  assert.equal((await eventsFor(mark)).length, 0);
  return rec;
}

/**
 * The server still takes a valid delivery, the recorder has nothing stuck, and the database holds no
 * half-written state: every event has exactly one accepted receipt, refusals point at no event, every
 * duplicate points at one, and no fingerprint outlives its event.
 */
async function stillServes() {
  const d = signedDelivery(SECRET);
  const r = await post(s.url, d);
  assert.equal(r.status, 200, 'a valid delivery after the hostile one');
  assert.deepEqual(r.json, { received: true, duplicate: false });
  assert.equal((await eventsFor(d.deliveryId)).length, 1);
  await s.recorder.flush();
  assert.equal(s.recorder.pending, 0, 'recorder has nothing stuck');
  const [bad] = rowsOf<Record<string, number>>(
    await s.db.db.execute(sql`
      select
        (select count(*)::int from events e
          where (select count(*) from receipts r where r.event_id = e.id and r.outcome = 'accepted') <> 1)
          as events_without_one_accept,
        (select count(*)::int from receipts r
          where r.outcome = 'accepted' and not exists (select 1 from events e where e.id = r.event_id))
          as accepts_without_event,
        (select count(*)::int from receipts r
          where r.outcome in ('rejected', 'unavailable', 'malformed', 'ignored') and r.event_id is not null)
          as refusals_with_event,
        (select count(*)::int from receipts r
          where r.outcome = 'duplicate'
            and not exists (select 1 from events e where e.id = r.event_id)) as dangling_duplicates,
        (select count(*)::int from fingerprints f
          where not exists (select 1 from events e where e.id = f.event_id)) as orphan_fingerprints
    `),
  );
  for (const [k, v] of Object.entries(bad!)) assert.equal(Number(v), 0, k);
}

/** Runs a case against its own server and database, so a poisoned recorder cannot fail the rest. */
async function onFreshServer(fn: () => Promise<void>) {
  const shared = s;
  s = await startReceiverServer({
    secrets: [SECRET],
    maxBodyBytes: LIMIT,
    worker: false,
    refusalLimits: UNSAMPLED,
  });
  port = Number(new URL(s.url).port);
  try {
    await fn();
  } finally {
    const fresh = s;
    s = shared;
    port = Number(new URL(s.url).port);
    await fresh.close();
  }
}

/** Resolves within `ms` or fails: the receiver must never hang. */
async function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('signature defects', () => {
  const valid = (body: string) => sign(body, SECRET);
  const cases: Array<[string, (body: string) => string | null, string]> = [
    ['missing', () => null, 'signature_missing'],
    ['empty', () => '', 'signature_missing'],
    ['whitespace only', () => ' \t ', 'signature_missing'],
    ['wrong prefix sha1=', (b) => valid(b).replace('sha256=', 'sha1='), 'signature_malformed'],
    ['upper-case prefix SHA256=', (b) => valid(b).replace('sha256=', 'SHA256='), 'signature_malformed'],
    ['prefix only', () => 'sha256=', 'signature_malformed'],
    ['prefix twice', (b) => `sha256=${valid(b)}`, 'signature_malformed'],
    [
      'right digest in upper-case hex',
      (b) => `sha256=${valid(b).slice(7).toUpperCase()}`,
      'signature_malformed',
    ],
    ['truncated by one hex digit', (b) => valid(b).slice(0, -1), 'signature_malformed'],
    ['one hex digit too many', (b) => `${valid(b)}0`, 'signature_malformed'],
    [
      'base64 digest',
      (b) => `sha256=${Buffer.from(valid(b).slice(7), 'hex').toString('base64')}`,
      'signature_malformed',
    ],
    [
      'space inside the digest',
      (b) => `${valid(b).slice(0, 20)} ${valid(b).slice(21)}`,
      'signature_malformed',
    ],
    [
      'unkeyed sha256 of the body',
      (b) => `sha256=${createHash('sha256').update(b).digest('hex')}`,
      'signature_mismatch',
    ],
    ['signed with an empty secret', (b) => sign(b, ''), 'signature_mismatch'],
    ['signed over the body plus a newline', (b) => sign(`${b}\n`, SECRET), 'signature_mismatch'],
  ];
  for (const [name, header, reason] of cases) {
    test(`${name}: 400 ${reason}, nothing queued`, async () => {
      const mark = marker('sig');
      const body = envelope(mark, { contact: { id: uniqueId() } });
      const h = header(body);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-skylight-delivery': mark,
      };
      if (h !== null) headers['x-skylight-signature'] = h;
      const r = await post(s.url, { body, headers });
      assert.equal((r.json as { error: { code: string } }).error.code, 'bad_request');
      const rec = await expectRejected(mark, r.status, reason);
      assert.equal(rec.body, body, 'a short unsigned body is kept as a debugging hint');
      await stillServes();
    });
  }

  test('multibyte characters in the header (raw UTF-8 bytes): 400 malformed', async () => {
    const mark = marker('sig-utf8');
    const body = envelope(mark, { contact: { id: uniqueId() } });
    // 32 two-byte characters: 64 bytes, the length of a real digest, but not hex.
    const utf8 = Buffer.from('é'.repeat(32), 'utf8').toString('latin1');
    const r = await rawRequest(
      port,
      buildRequest({
        path: PATH,
        headers: [
          ['Content-Type', 'application/json'],
          ['X-Skylight-Delivery', mark],
          ['X-Skylight-Signature', `sha256=${utf8}`],
        ],
        body,
      }),
    );
    await expectRejected(mark, r.status ?? 0, 'signature_malformed');
    await stillServes();
  });

  test('duplicated header, both copies valid: node joins them with ", ", so 400 malformed', async () => {
    const mark = marker('sig-dup');
    const body = envelope(mark, { contact: { id: uniqueId() } });
    const r = await rawRequest(
      port,
      buildRequest({
        path: PATH,
        headers: [
          ['Content-Type', 'application/json'],
          ['X-Skylight-Delivery', mark],
          ['X-Skylight-Signature', sign(body, SECRET)],
          ['X-Skylight-Signature', sign(body, SECRET)],
        ],
        body,
      }),
    );
    await expectRejected(mark, r.status ?? 0, 'signature_malformed');
    await stillServes();
  });

  test('1 MB header value: the HTTP parser answers 431 long before 1 MB is sent; nothing recorded', async () => {
    const before = await receiptCount();
    const r = await rawExchange(port, async (io) => {
      await io.write(`POST ${PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Skylight-Signature: sha256=`);
      const chunk = 'a'.repeat(16 * 1024);
      let sent = 0;
      while (sent < 1_048_576 && (await io.write(chunk))) sent += chunk.length;
      if (sent >= 1_048_576) await io.write('\r\nContent-Length: 2\r\n\r\n{}');
    });
    assert.equal(r.status, 431, `answer: ${r.head.slice(0, 80)} (${r.error})`);
    // Node's default max header size is 16 KB: the parser stops reading well before 1 MB.
    assert.ok(r.bytesWritten < 256 * 1024, `${r.bytesWritten} bytes written before the answer`);
    assert.equal(await receiptCount(), before, 'the request never reached the receiver');
    await stillServes();
  });
});

describe('size', () => {
  /** A signed body of exactly `total` bytes. */
  function padded(total: number, mark: string) {
    const head = envelope(mark, { id: uniqueId(), note: '' });
    const body = head.replace('"note":""', `"note":"${'x'.repeat(total - Buffer.byteLength(head))}"`);
    assert.equal(Buffer.byteLength(body), total);
    return body;
  }

  test('exactly at the limit: 200 accepted, one event', async () => {
    const mark = marker('size-exact');
    const r = await post(s.url, signedRaw(padded(LIMIT, mark), mark));
    assert.equal(r.status, 200);
    const rec = await oneReceipt(mark, { outcome: 'accepted', httpStatus: 200 });
    assert.equal(rec.bodyBytes, LIMIT);
    assert.equal((await eventsFor(mark)).length, 1);
    await stillServes();
  });

  test('one byte over, with Content-Length: 413 before the body is read, rejected without a body', async () => {
    const mark = marker('size-over');
    const body = padded(LIMIT + 1, mark);
    const head = buildRequest({
      path: PATH,
      headers: [
        ['Content-Type', 'application/json'],
        ['X-Skylight-Delivery', mark],
        ['X-Skylight-Signature', sign(body, SECRET)],
        ['Content-Length', String(LIMIT + 1)],
      ],
    });
    const r = await rawExchange(port, async (io) => {
      if (!(await io.write(head))) return;
      const bytes = Buffer.from(body);
      for (let at = 0; at < bytes.length; at += 64 * 1024) {
        if (!(await io.write(bytes.subarray(at, at + 64 * 1024)))) return;
      }
    });
    assert.equal(r.status, 413);
    assert.equal((JSON.parse(r.body) as { error: { code: string } }).error.code, 'payload_too_large');
    const rec = await oneReceipt(mark, { outcome: 'rejected', reason: 'body_too_large', httpStatus: 413 });
    assert.equal(rec.body, null);
    assert.equal(rec.bodyBytes, LIMIT + 1);
    assert.equal((await eventsFor(mark)).length, 0);
    await stillServes();
  });

  test('Content-Length of 10 GB on a tiny body: 413 at once, and the recorder keeps recording', async () => {
    await onFreshServer(async () => {
      const mark = marker('size-lie');
      const r = await rawRequest(
        port,
        buildRequest({
          path: PATH,
          headers: [
            ['X-Skylight-Delivery', mark],
            ['Content-Length', '10000000000'],
          ],
          body: '{}',
        }),
      );
      assert.equal(r.status, 413);
      // body_bytes is an int4 column: the claimed length must not make the row unwritable, and one
      // unwritable row must not block every refusal recorded after it.
      const later = marker('size-lie-later');
      assert.equal(
        (await post(s.url, { body: '{}', headers: { 'x-skylight-delivery': later } })).status,
        400,
      );
      await oneReceipt(later, { outcome: 'rejected', reason: 'signature_missing', httpStatus: 400 });
      const rec = await oneReceipt(mark, { outcome: 'rejected', reason: 'body_too_large', httpStatus: 413 });
      assert.ok(rec.bodyBytes > LIMIT);
      await stillServes();
    });
  });

  test('chunked body with no Content-Length, far over the limit: 413 without reading it all', async () => {
    const mark = marker('size-chunked');
    const willing = 64 * 1024 * 1024;
    const rssBefore = process.memoryUsage().rss;
    const r = await rawExchange(port, async (io) => {
      const head = buildRequest({
        path: PATH,
        headers: [
          ['Content-Type', 'application/json'],
          ['X-Skylight-Delivery', mark],
          ['X-Skylight-Signature', `sha256=${'0'.repeat(64)}`],
          ['Transfer-Encoding', 'chunked'],
        ],
      });
      if (!(await io.write(head))) return;
      const chunk = Buffer.from(`10000\r\n${'x'.repeat(0x10000)}\r\n`);
      for (let sent = 0; sent < willing; sent += 0x10000) if (!(await io.write(chunk))) return;
      io.end('0\r\n\r\n');
    });
    assert.equal(r.status, 413);
    assert.ok(r.bytesWritten < 16 * 1024 * 1024, `${r.bytesWritten} bytes sent before the 413`);
    assert.ok(process.memoryUsage().rss - rssBefore < 32 * 1024 * 1024, 'the body was not buffered');
    const rec = await oneReceipt(mark, { outcome: 'rejected', reason: 'body_too_large', httpStatus: 413 });
    assert.equal(rec.body, null);
    await stillServes();
  });

  test('a body that never finishes: others are served meanwhile; when the client gives up nothing leaks', async () => {
    const mark = marker('size-slow');
    let giveUp: () => void = () => {};
    const gaveUp = new Promise<void>((r) => (giveUp = r));
    const slow = rawExchange(port, async (io: RawIo) => {
      const head = buildRequest({
        path: PATH,
        headers: [
          ['Content-Type', 'application/json'],
          ['X-Skylight-Delivery', mark],
          ['X-Skylight-Signature', `sha256=${'0'.repeat(64)}`],
          ['Content-Length', '100000'],
        ],
      });
      await io.write(head);
      await io.write('{"event":"contact.created","data":{');
      await gaveUp;
      io.destroy();
    });
    // The stalled request holds no lock: a valid delivery goes through while it hangs.
    await stillServes();
    giveUp();
    const r = await within(5000, slow, 'slow client');
    assert.equal(r.status, null, 'nothing was answered to a request that never finished');
    // The aborted read settles the receiver's promise: it is recorded, not left pending forever.
    await within(
      5000,
      (async () => {
        while ((await receiptsFor(mark)).length === 0) await new Promise((res) => setTimeout(res, 20));
      })(),
      'receipt for the aborted request',
    );
    const rec = await oneReceipt(mark, { outcome: 'rejected', reason: 'body_unreadable', httpStatus: 400 });
    assert.equal(rec.body, null);
    await within(2000, s.commit.drain(), 'group commit drain');
    await stillServes();
  });

  test('many bodies trickled at once from one address: past its 16 MB share, 503 unread; freed when they go', async () => {
    // 16 connections each declare the largest body and send a few bytes of it: 16 MB held open.
    let giveUp: () => void = () => {};
    const gaveUp = new Promise<void>((r) => (giveUp = r));
    let started = 0;
    const slow = Array.from({ length: 16 }, (_, i) =>
      rawExchange(port, async (io: RawIo) => {
        await io.write(
          buildRequest({
            path: PATH,
            headers: [
              ['Content-Type', 'application/json'],
              ['X-Skylight-Delivery', marker(`trickle-${i}`)],
              ['Content-Length', String(LIMIT)],
            ],
          }),
        );
        await io.write('{"event":"contact.created","data":{');
        started++;
        await gaveUp;
        io.destroy();
      }),
    );
    try {
      await within(
        5000,
        (async () => {
          while (started < 16) await new Promise((r) => setTimeout(r, 10));
        })(),
        'slow starts',
      );
      // Their reads have begun (the bytes were written); one more body does not fit the share.
      await new Promise((r) => setTimeout(r, 100));
      const d = signedDelivery(SECRET);
      const r = await post(s.url, d);
      assert.equal(r.status, 503);
      assert.equal(r.headers.get('retry-after'), '5');
      assert.equal(
        (r.json as { error: { message: string } }).error.message,
        'Too many request bodies being sent from this address at once, retry later',
      );
      const rec = await oneReceipt(d.deliveryId, {
        outcome: 'unavailable',
        reason: 'too_many_bodies',
        httpStatus: 503,
      });
      assert.equal(rec.body, null, 'never read');
      assert.equal((await eventsFor(d.deliveryId)).length, 0);
    } finally {
      giveUp();
      await Promise.all(slow.map((p) => within(5000, p, 'slow client')));
    }
    // Their reads end with their connections: the share is free again.
    await within(
      5000,
      (async () => {
        for (;;) {
          const d = signedDelivery(SECRET);
          if ((await post(s.url, d)).status === 200) return;
          await new Promise((r) => setTimeout(r, 50));
        }
      })(),
      'accepted again',
    );
    await stillServes();
  });

  test('empty signed body: 200 malformed, nothing queued', async () => {
    const mark = marker('size-empty');
    const r = await post(s.url, signedRaw('', mark));
    assert.equal(r.status, 200);
    await oneReceipt(mark, { outcome: 'malformed', reason: 'body is not JSON', httpStatus: 200 });
    assert.equal((await eventsFor(mark)).length, 0);
    await stillServes();
  });
});

describe('content', () => {
  test('invalid UTF-8, signed: 200 malformed, body kept with replacement characters', async () => {
    const mark = marker('utf8');
    const body = Buffer.concat([
      Buffer.from(`{"event":"contact.created","delivery_id":"${mark}","data":{"name":"`),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]),
      Buffer.from('"}}'),
    ]);
    const r = await post(s.url, signedRaw(body, mark));
    assert.equal(r.status, 200);
    const rec = await oneReceipt(mark, {
      outcome: 'malformed',
      reason: 'body is not valid UTF-8',
      httpStatus: 200,
    });
    assert.ok(rec.body?.includes('\uFFFD'));
    assert.equal((await eventsFor(mark)).length, 0);
    await stillServes();
  });

  test('UTF-8 byte order mark before valid JSON: accepted (the decoder drops the BOM)', async () => {
    const mark = marker('bom');
    const body = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(envelope(mark, { id: uniqueId() })),
    ]);
    const r = await post(s.url, signedRaw(body, mark));
    assert.equal(r.status, 200);
    await oneReceipt(mark, { outcome: 'accepted', httpStatus: 200 });
    assert.equal((await eventsFor(mark)).length, 1);
    await stillServes();
  });

  test('10,000 levels of nesting inside data: 200 malformed, not a crash', async () => {
    const mark = marker('deep-data');
    const body = `{"event":"contact.created","delivery_id":"${mark}","data":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`;
    const r = await post(s.url, signedRaw(body, mark));
    assert.equal(r.status, 200);
    await oneReceipt(mark, {
      outcome: 'malformed',
      reason: /^data: nested deeper than \d+ levels$/,
      httpStatus: 200,
    });
    assert.equal((await eventsFor(mark)).length, 0);
    await stillServes();
  });

  test('10,000 nested arrays as the whole body: 200 malformed (not an object)', async () => {
    const mark = marker('deep-body');
    const body = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const r = await post(s.url, signedRaw(body, mark));
    assert.equal(r.status, 200);
    await oneReceipt(mark, { outcome: 'malformed', reason: 'body is not a JSON object', httpStatus: 200 });
    await stillServes();
  });

  test('10,000 levels under an unknown top-level key: accepted, the extra key is not queued', async () => {
    const mark = marker('deep-extra');
    const body = `{"event":"contact.created","delivery_id":"${mark}","data":{"id":${uniqueId()}},"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const r = await post(s.url, signedRaw(body, mark));
    assert.equal(r.status, 200);
    await oneReceipt(mark, { outcome: 'accepted', httpStatus: 200 });
    const [ev] = await eventsFor(mark);
    assert.deepEqual(Object.keys(ev!.payload as object).sort(), ['data', 'delivery_id', 'event']);
    await stillServes();
  });

  test('100,000 keys in data, within the size limit: accepted and stored whole', async () => {
    const mark = marker('wide');
    const keys = Array.from({ length: 100_000 }, (_, i) => `"${i.toString(36)}":0`).join(',');
    const body = `{"event":"contact.created","delivery_id":"${mark}","data":{${keys}}}`;
    assert.ok(Buffer.byteLength(body) <= LIMIT);
    const r = await post(s.url, signedRaw(body, mark));
    assert.equal(r.status, 200);
    await oneReceipt(mark, { outcome: 'accepted', httpStatus: 200 });
    const [row] = rowsOf<{ n: number }>(
      await s.db.db.execute(
        sql`select count(*)::int as n from events, jsonb_object_keys(payload->'data') where delivery_id = ${mark}`,
      ),
    );
    assert.equal(Number(row!.n), 100_000);
    await stillServes();
  });

  test('"constructor" and "prototype" keys: stored as data, no prototype pollution', async () => {
    const mark = marker('ctor');
    const body = envelope(mark, {
      constructor: { prototype: { polluted: 'yes' } },
      prototype: { polluted: 'yes' },
      contact: { id: uniqueId() },
    });
    const r = await post(s.url, signedRaw(body, mark));
    assert.equal(r.status, 200);
    await oneReceipt(mark, { outcome: 'accepted', httpStatus: 200 });
    const [ev] = await eventsFor(mark);
    const data = (ev!.payload as { data: Record<string, unknown> }).data;
    assert.deepEqual(data.constructor, { prototype: { polluted: 'yes' } });
    assert.deepEqual(data.prototype, { polluted: 'yes' });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
    await stillServes();
  });

  test('"__proto__" key in data: stored as data (not dropped), no prototype pollution', async () => {
    const mark = marker('proto');
    const mark2 = marker('proto');
    const id = uniqueId();
    const a = `{"event":"contact.created","delivery_id":"${mark}","data":{"__proto__":{"polluted":"yes"},"contact":{"id":${id}}}}`;
    const b = `{"event":"contact.created","delivery_id":"${mark2}","data":{"__proto__":{"polluted":"no"},"contact":{"id":${id}}}}`;
    assert.equal((await post(s.url, signedRaw(a, mark))).status, 200);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
    await oneReceipt(mark, { outcome: 'accepted', httpStatus: 200 });
    const [row] = rowsOf<{ v: string | null }>(
      await s.db.db.execute(
        sql`select payload->'data'->'__proto__'->>'polluted' as v from events where delivery_id = ${mark}`,
      ),
    );
    assert.equal(row?.v, 'yes', 'the "__proto__" member of data is part of the stored payload');
    // It is part of the content, so a delivery differing only there is not a fingerprint duplicate.
    const rb = await post(s.url, signedRaw(b, mark2));
    assert.deepEqual(rb.json, { received: true, duplicate: false });
    assert.equal((await eventsFor(mark2)).length, 1);
    await stillServes();
  });

  test('top-level "__proto__" cannot smuggle in the envelope fields: malformed', async () => {
    const mark = marker('proto-top');
    const body = `{"__proto__":{"event":"contact.created","delivery_id":"${mark}","data":{}}}`;
    const r = await post(s.url, signedRaw(body, mark));
    assert.equal(r.status, 200);
    await oneReceipt(mark, { outcome: 'malformed', reason: 'event: is required', httpStatus: 200 });
    assert.equal((await eventsFor(mark)).length, 0);
    assert.equal(({} as Record<string, unknown>).event, undefined);
    await stillServes();
  });

  test('numbers beyond 2^53 and beyond double range: accepted, exact in the raw body and the payload', async () => {
    const mark = marker('bignum');
    const body = `{"event":"contact.created","delivery_id":"${mark}","data":{"id":9007199254740993,"big":123456789012345678901234567890,"huge":1e400,"tiny":-1e400}}`;
    const r = await post(s.url, signedRaw(body, mark));
    assert.equal(r.status, 200);
    const rec = await oneReceipt(mark, { outcome: 'accepted', httpStatus: 200 });
    assert.equal(rec.body, body, 'the raw body keeps every digit');
    const [ev] = await eventsFor(mark);
    // The queued payload keeps every digit too (jsonb numbers are exact); JavaScript's reading
    // (rounded to a double, ±Infinity as null) never touches it.
    const [exact] = rowsOf<Record<string, boolean>>(
      await s.db.db.execute(sql`
        select payload #>> '{data,id}' = '9007199254740993' as id,
               payload #>> '{data,big}' = '123456789012345678901234567890' as big,
               (payload #>> '{data,huge}')::numeric = 1e400 as huge,
               (payload #>> '{data,tiny}')::numeric = -1e400 as tiny
          from events where id = ${ev!.id}`),
    );
    assert.deepEqual(exact, { id: true, big: true, huge: true, tiny: true });
    await stillServes();
  });

  test('timestamps out of range (beyond 2^53, 1e400): malformed with the field named', async () => {
    for (const ts of ['9007199254740993', '1e400', '-1']) {
      const mark = marker('ts');
      const body = `{"event":"contact.created","delivery_id":"${mark}","timestamp":${ts},"data":{"id":${uniqueId()}}}`;
      const r = await post(s.url, signedRaw(body, mark));
      assert.equal(r.status, 200, ts);
      await oneReceipt(mark, { outcome: 'malformed', reason: /^timestamp: /, httpStatus: 200 });
      assert.equal((await eventsFor(mark)).length, 0);
    }
    await stillServes();
  });

  test('raw NUL byte inside a JSON string: malformed (not JSON), body stored without NUL', async () => {
    const mark = marker('nul-raw');
    const body = `{"event":"contact.created","delivery_id":"${mark}","data":{"name":"a\u0000b"}}`;
    const r = await post(s.url, signedRaw(body, mark));
    assert.equal(r.status, 200);
    const rec = await oneReceipt(mark, { outcome: 'malformed', reason: 'body is not JSON', httpStatus: 200 });
    assert.ok(!rec.body!.includes('\u0000'));
    await stillServes();
  });

  /**
   * Postgres jsonb cannot hold \u0000 or unpaired surrogates. Either outcome is clear: stored and
   * read back, or malformed with a reason an operator can act on (the database's words, not SQL).
   * A 503 would be wrong: the provider would retry the same bytes forever. Neighbours in the same
   * group-commit batch must not be affected.
   */
  const unstorable: Array<[string, string]> = [
    ['\\u0000 escape in a string value', '{"name":"a\\u0000b"}'],
    ['\\u0000 escape in a key', '{"a\\u0000":1}'],
    ['lone high surrogate \\ud800', '{"name":"x\\ud800y"}'],
    ['lone low surrogate \\udc00', '{"name":"\\udc00"}'],
    ['surrogates in the wrong order', '{"name":"\\udc00\\ud800"}'],
  ];
  for (const [name, data] of unstorable) {
    test(`${name}: a clear outcome, never a 5xx, neighbours in the batch accepted`, async () => {
      const mark = marker('unstorable');
      const body = `{"event":"contact.created","delivery_id":"${mark}","data":${data}}`;
      const neighbours = Array.from({ length: 6 }, () => signedDelivery(SECRET));
      const [r, ...rs] = await Promise.all([
        post(s.url, signedRaw(body, mark)),
        ...neighbours.map((d) => post(s.url, d)),
      ]);
      assert.equal(r!.status, 200, JSON.stringify(r!.json));
      for (const [i, n] of rs.entries()) {
        assert.deepEqual(n.json, { received: true, duplicate: false });
        assert.equal((await eventsFor(neighbours[i]!.deliveryId)).length, 1);
      }
      const [rec] = await receiptsFor(mark);
      // Valid JSON is queued whatever jsonb thinks of it: the two escapes jsonb cannot hold become
      // U+FFFD in the payload (as in any text column); the receipt keeps the raw body.
      assert.equal(rec?.outcome, 'accepted');
      assert.equal(rec?.body, body);
      const [ev] = await eventsFor(mark);
      assert.deepEqual((ev!.payload as { data: unknown }).data, JSON.parse(storableJsonText(data)));
      assert.doesNotMatch(JSON.stringify(ev!.payload), /\\u0000|\\ud[89a-f]/i);
      await stillServes();
    });
  }

  const malformedIds: Array<[string, (mark: string) => string]> = [
    ['NUL in the body delivery_id', (m) => `"delivery_id":"${m}\\u0000x","event":"contact.created"`],
    ['NUL in the body event', (m) => `"delivery_id":"${m}","event":"contact.\\u0000created"`],
    [
      'CR/LF and ANSI escapes in the body delivery_id',
      (m) => `"delivery_id":"${m}\\r\\n\\u001b[31mFORGED","event":"contact.created"`,
    ],
  ];
  for (const [name, fields] of malformedIds) {
    test(`${name} (signed, invalid envelope): 200 malformed, stored id has no control characters`, async () => {
      const mark = marker('bad-id');
      const body = `{${fields(mark)},"data":{"id":${uniqueId()}}}`;
      const r = await post(s.url, signedRaw(body, mark));
      assert.equal(r.status, 200, `status ${r.status}: ${JSON.stringify(r.json)}`);
      const recs = await receiptsLike(mark);
      assert.equal(recs.length, 1);
      const rec = recs[0]!;
      assert.equal(rec.outcome, 'malformed');
      assert.doesNotMatch(rec.deliveryId ?? '', CONTROL);
      assert.doesNotMatch(rec.eventType ?? '', CONTROL);
      assert.equal(
        (
          await s.db.db
            .select()
            .from(events)
            .where(like(events.deliveryId, `${mark}%`))
        ).length,
        0,
      );
      await stillServes();
    });
  }

  /** Gzip of `size` zero bytes, built from one reused buffer so the test itself stays small. */
  async function gzipOfZeros(size: number): Promise<Buffer> {
    const gz = createGzip({ level: 9 });
    const out: Buffer[] = [];
    gz.on('data', (c: Buffer) => out.push(c));
    const done = once(gz, 'end');
    const zeros = Buffer.alloc(1024 * 1024);
    for (let n = 0; n < size; n += zeros.length) if (!gz.write(zeros)) await once(gz, 'drain');
    gz.end();
    await done;
    return Buffer.concat(out);
  }
  const INFLATED = 256 * 1024 * 1024;

  test('gzip bomb signed over its compressed bytes: never inflated, 200 malformed, memory flat', async () => {
    const bomb = await gzipOfZeros(INFLATED);
    assert.ok(bomb.byteLength * 500 < INFLATED && bomb.byteLength < LIMIT);
    // Warm-up with random bytes of the same size, so buffers and the database heap are already grown.
    const warm = marker('gzip-warm');
    await post(s.url, signedRaw(randomBytes(bomb.byteLength), warm, { 'content-encoding': 'gzip' }));
    const mark = marker('gzip');
    const rssBefore = process.memoryUsage().rss;
    const r = await post(s.url, signedRaw(bomb, mark, { 'content-encoding': 'gzip' }));
    const grew = process.memoryUsage().rss - rssBefore;
    assert.equal(r.status, 200);
    const rec = await oneReceipt(mark, {
      outcome: 'malformed',
      reason: 'body is not valid UTF-8',
      httpStatus: 200,
    });
    assert.equal(rec.bodyBytes, bomb.byteLength, 'the raw compressed bytes, not the inflated size');
    assert.ok(grew < 16 * 1024 * 1024, `rss grew by ${Math.round(grew / 1024 / 1024)} MB`);
    await stillServes();
  });

  test('gzip body signed over the inflated JSON: 400 mismatch (bytes on the wire are what is verified)', async () => {
    const mark = marker('gzip-json');
    const json = envelope(mark, { id: uniqueId() });
    const gz = await new Promise<Buffer>((resolve) => {
      const z = createGzip();
      const out: Buffer[] = [];
      z.on('data', (c: Buffer) => out.push(c));
      z.on('end', () => resolve(Buffer.concat(out)));
      z.end(json);
    });
    const r = await post(s.url, {
      body: gz,
      headers: {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        'x-skylight-delivery': mark,
        'x-skylight-signature': sign(json, SECRET),
      },
    });
    await expectRejected(mark, r.status, 'signature_mismatch');
    await stillServes();
  });
});

describe('headers', () => {
  /** Sends a raw request whose header block carries `header` verbatim; returns the answer. */
  function rawWithHeader(header: string, body: string) {
    return rawRequest(
      port,
      Buffer.concat([
        Buffer.from(
          `POST ${PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n` +
            `X-Skylight-Signature: ${sign(body, SECRET)}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${header}\r\n\r\n`,
          'latin1',
        ),
        Buffer.from(body),
      ]),
    );
  }

  const refusedByParser: Array<[string, string]> = [
    ['bare CR in the delivery id', 'X-Skylight-Delivery: abc\rX-Injected: 1'],
    ['bare LF in the delivery id', 'X-Skylight-Delivery: abc\nX-Injected: 1'],
    ['NUL in the event header', 'X-Skylight-Event: contact.created\u0000evil'],
    ['ANSI escape in the event header', 'X-Skylight-Event: contact.created\u001b[2J\u001b[31mFORGED'],
    ['obs-fold continuation line', 'X-Skylight-Delivery: abc\r\n folded: yes'],
  ];
  for (const [name, header] of refusedByParser) {
    test(`${name} (raw socket): the parser answers 400, the receiver never sees it`, async () => {
      const before = await receiptCount();
      const mark = marker('crlf');
      const r = await rawWithHeader(header, envelope(mark, { id: uniqueId() }));
      assert.equal(r.status, 400, `answer: ${r.head.slice(0, 80)}`);
      assert.equal(await receiptCount(), before);
      const [row] = rowsOf<{ n: number }>(
        await s.db.db.execute(sql`select count(*)::int as n from receipts where headers ? 'x-injected'`),
      );
      assert.equal(Number(row!.n), 0);
      await stillServes();
    });
  }

  test('CRLF in a header value is a new header line, not part of the value (raw socket)', async () => {
    const mark = marker('crlf-split');
    const body = envelope(mark, { id: uniqueId() });
    const r = await rawWithHeader(`X-Skylight-Delivery: ${mark}\r\nX-Injected: 1`, body);
    assert.equal(r.status, 200);
    const rec = await oneReceipt(mark, { outcome: 'accepted', httpStatus: 200 });
    assert.equal(rec.headers['x-skylight-delivery'], mark);
    assert.equal(rec.headers['x-injected'], '1');
    await stillServes();
  });

  test('C1 control bytes (0x85 NEL, 0x9b CSI) in header values: stripped from stored values', async () => {
    const mark = marker('c1');
    const body = envelope(mark, { id: uniqueId() });
    const r = await rawWithHeader(
      `X-Skylight-Event: contact.created\x85\x9b31mFORGED\r\nX-Note: a\x85b`,
      body,
    );
    assert.equal(r.status, 200);
    const rec = await oneReceipt(mark, { outcome: 'accepted', httpStatus: 200 });
    for (const [k, v] of Object.entries(rec.headers)) assert.doesNotMatch(v, CONTROL, `header ${k}`);
    await stillServes();
  });

  test('tab inside header values: stored without it (raw socket)', async () => {
    const mark = marker('tab');
    const r = await rawWithHeader(
      `X-Skylight-Delivery: ${mark}\tx\r\nX-Skylight-Event: contact.\tcreated`,
      `{"event":"contact.created","data":{"id":${uniqueId()}}}`,
    );
    assert.equal(r.status, 200);
    const recs = await receiptsLike(mark);
    assert.equal(recs.length, 1);
    for (const v of [recs[0]!.deliveryId, recs[0]!.eventType, ...Object.values(recs[0]!.headers)])
      assert.doesNotMatch(v ?? '', CONTROL);
    await stillServes();
  });

  test('10 KB delivery id header on an unsigned request: 400, stored value capped', async () => {
    const long = marker('long').padEnd(10 * 1024, 'q');
    const r = await post(s.url, {
      body: '{}',
      headers: { 'content-type': 'application/json', 'x-skylight-delivery': long },
    });
    assert.equal(r.status, 400);
    const recs = await receiptsLike(long.slice(0, 40));
    assert.equal(recs.length, 1);
    assert.equal(recs[0]!.deliveryId, long.slice(0, 200));
    assert.equal(recs[0]!.headers['x-skylight-delivery']!.length, 512);
    assert.equal(recs[0]!.reason, 'signature_missing');
    await stillServes();
  });

  test('10 KB delivery id header with a signed body that has its own id: accepted under the body id', async () => {
    const mark = marker('long-body');
    const r = await post(
      s.url,
      signedRaw(envelope(mark, { id: uniqueId() }), mark, { 'x-skylight-delivery': 'q'.repeat(10 * 1024) }),
    );
    assert.equal(r.status, 200);
    await oneReceipt(mark, { outcome: 'accepted', httpStatus: 200 });
    assert.equal((await eventsFor(mark)).length, 1);
    await stillServes();
  });

  test('10 KB delivery id header as the only id: not truncated into a dedupe key (malformed)', async () => {
    const long = marker('long-only').padEnd(10 * 1024, 'q');
    const body = `{"event":"contact.created","data":{"id":${uniqueId()}}}`;
    const r = await post(s.url, signedRaw(body, long));
    assert.equal(r.status, 200);
    const recs = await receiptsLike(long.slice(0, 40));
    assert.equal(recs.length, 1);
    // An id cut to 200 characters is not the provider's id: two long ids sharing a prefix would
    // silently dedupe into one event.
    assert.equal(recs[0]!.outcome, 'malformed', `stored as ${recs[0]!.outcome} under a truncated id`);
    assert.match(recs[0]!.reason ?? '', /^delivery_id: /);
    assert.equal(
      (
        await s.db.db
          .select()
          .from(events)
          .where(like(events.deliveryId, `${long.slice(0, 40)}%`))
      ).length,
      0,
    );
    await stillServes();
  });

  test('log-injection strings in headers: stored as inert text, length-capped', async () => {
    const mark = marker('loginj');
    const forged = `contact.created"} {"level":60,"msg":"forged","x":"${'A'.repeat(300)}`;
    const r = await post(s.url, {
      body: '{}',
      headers: {
        'content-type': 'application/json',
        'x-skylight-delivery': mark,
        'x-skylight-event': forged,
        'x-skylight-timestamp': '=cmd|" /C calc"!A0',
      },
    });
    assert.equal(r.status, 400);
    const rec = await oneReceipt(mark, { outcome: 'rejected', reason: 'signature_missing', httpStatus: 400 });
    assert.equal(rec.eventType, forged.slice(0, 100));
    assert.ok(Object.values(rec.headers).every((v) => v.length <= 512));
    await stillServes();
  });

  test('60 extra headers plus cookie and authorization: at most 40 stored, credentials never', async () => {
    const mark = marker('many');
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-skylight-delivery': mark,
      cookie: 'session=secret',
      authorization: 'Bearer secret',
      'x-api-key': 'secret',
    };
    for (let i = 0; i < 60; i++) headers[`x-extra-${i}`] = `v${i}`;
    const r = await post(s.url, { body: '{}', headers });
    assert.equal(r.status, 400);
    const rec = await oneReceipt(mark, { outcome: 'rejected', reason: 'signature_missing', httpStatus: 400 });
    assert.ok(Object.keys(rec.headers).length <= 40, `${Object.keys(rec.headers).length} headers stored`);
    assert.ok(!JSON.stringify(rec.headers).includes('secret'));
    await stillServes();
  });
});

describe('method and content type', () => {
  for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
    test(`${method} on the receiver path: no receipt, no event, no crash`, async () => {
      const before = await receiptCount();
      const events0 = await eventCount();
      const d = signedDelivery(SECRET);
      const r = await fetch(s.url, {
        method,
        headers: d.headers,
        body: method === 'GET' ? undefined : d.body,
      });
      await r.arrayBuffer();
      // The test server answers 404 for anything but POST; the Next route exports only POST (405).
      assert.ok(r.status === 404 || r.status === 405, `status ${r.status}`);
      assert.equal(await receiptCount(), before);
      assert.equal(await eventCount(), events0);
      await stillServes();
    });
  }

  const contentTypes: Array<string | null> = [
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/json; charset=latin1',
    null,
  ];
  for (const ct of contentTypes) {
    test(`content type ${ct ?? '(none)'} with a valid signed JSON body: accepted (tolerant by design)`, async () => {
      const mark = marker('ct');
      const body = envelope(mark, { id: uniqueId() });
      const headers: Record<string, string> = { 'x-skylight-signature': sign(body, SECRET) };
      if (ct) headers['content-type'] = ct;
      const r = await fetch(s.url, { method: 'POST', headers, body: new TextEncoder().encode(body) });
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { received: true, duplicate: false });
      await oneReceipt(mark, { outcome: 'accepted', httpStatus: 200 });
      assert.equal((await eventsFor(mark)).length, 1);
      await stillServes();
    });
  }
});

describe('concurrency abuse', () => {
  test('200 concurrent requests mixing valid, duplicate and bad-signature: one event per delivery id', async () => {
    const valid = Array.from({ length: 60 }, () => signedDelivery(SECRET));
    type Req = { kind: 'valid' | 'dup' | 'forged' | 'unsigned'; d: (typeof valid)[number] };
    const reqs: Req[] = [
      ...valid.map((d) => ({ kind: 'valid' as const, d })),
      ...valid.map((d) => ({ kind: 'dup' as const, d })),
      // Same delivery ids as the valid ones, signed with the wrong secret: they must not claim the id.
      ...valid.slice(0, 40).map((d) => ({
        kind: 'forged' as const,
        d: { ...d, headers: { ...d.headers, 'x-skylight-signature': sign(d.body, 'attacker') } },
      })),
      ...valid.slice(20, 60).map((d) => {
        const { 'x-skylight-signature': _, ...headers } = d.headers;
        return { kind: 'unsigned' as const, d: { ...d, headers } };
      }),
    ];
    assert.equal(reqs.length, 200);
    // Deterministic interleaving so forged copies race their valid twins.
    const order = reqs.map((r, i) => ({ r, k: (i * 7919) % 200 })).sort((a, b) => a.k - b.k);
    const results = await within(
      30_000,
      Promise.all(order.map(({ r }) => post(s.url, r.d).then((res) => ({ ...r, res })))),
      '200 concurrent requests',
    );
    for (const { kind, res } of results) {
      if (kind === 'forged' || kind === 'unsigned') assert.equal(res.status, 400, kind);
      else assert.equal(res.status, 200, kind);
    }
    for (const d of valid) {
      const mine = results.filter((r) => r.d.deliveryId === d.deliveryId && r.res.status === 200);
      assert.equal(mine.length, 2);
      assert.equal(mine.filter((r) => r.res.json?.duplicate === false).length, 1, 'exactly one first ack');
      assert.equal((await eventsFor(d.deliveryId)).length, 1);
      const recs = await receiptsFor(d.deliveryId);
      const counts = { accepted: 0, duplicate: 0, rejected: 0 } as Record<string, number>;
      for (const r of recs) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
      const i = valid.indexOf(d);
      assert.equal(counts.accepted, 1);
      assert.equal(counts.duplicate, 1);
      assert.equal(counts.rejected, (i < 40 ? 1 : 0) + (i >= 20 ? 1 : 0));
    }
    await stillServes();
  });
});
