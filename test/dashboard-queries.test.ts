import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { openDb } from '@/db/client';
import { type Histogram, record } from '@/db/histogram';
import { listAudit } from '@/db/queries/audit';
import { getDelivery, listDeliveries } from '@/db/queries/deliveries';
import {
  countDeadLetters,
  discardDeadLetter,
  getEvent,
  listDeadLetters,
  retryDeadLetter,
  retryDeadLetters,
} from '@/db/queries/dlq';
import { listEvents } from '@/db/queries/events';
import { queueDepth } from '@/db/queries/queue';
import { writeRollups } from '@/db/queries/rollups';
import { insertSettingIfAbsent } from '@/db/queries/settings';
import { attempts, events, receipts } from '@/db/schema';
import { decodeDlqCursor, decodeTimeCursor, encodeCursor, encodeDlqCursor } from '@/lib/api/cursor';
import type { AppError } from '@/lib/errors';
import { latencyOverTime, outcomesOverTime, retryRate, summary } from '@/lib/metrics/dashboard';
import { RollupBuffer } from '@/lib/metrics/rollup-buffer';
import { summarize } from '@/lib/metrics/series';
import { openTestDb, type TestDb } from './helpers/db';

let h: TestDb;
const who = { actor: 'test', ip: '127.0.0.1' };
const MIN = 60_000;
const now = Date.now();

before(async () => {
  h = await openTestDb();
  const db = h.db;
  const evs = await db
    .insert(events)
    .values(
      ['a', 'b', 'c', 'd'].map((k, i) => ({
        source: 'skylightchat',
        provider: 'skylight',
        deliveryId: `dlv-${k}`,
        eventType: i < 3 ? 'message.received' : 'contact.created',
        fingerprint: `fp-${k}`,
        payload: { event: 'x', data: { k } },
        status: i < 3 ? ('dead' as const) : ('processed' as const),
        attempts: i < 3 ? 2 : 1,
        retried: i < 3,
        lastError: i === 0 ? 'notify: downstream answered 503' : i < 3 ? 'invalid booking' : null,
        deadAt: i < 3 ? new Date(now - i * MIN) : null,
        createdAt: new Date(now - 5 * MIN),
      })),
    )
    .returning({ id: events.id, deliveryId: events.deliveryId });
  for (const [i, e] of evs.slice(0, 3).entries()) {
    await db.insert(attempts).values([
      {
        eventId: e.id,
        attempt: 1,
        worker: 'w',
        startedAt: new Date(now - 4 * MIN),
        durationMs: 10,
        result: 'transient',
        error: 'x',
      },
      {
        eventId: e.id,
        attempt: 2,
        worker: 'w',
        startedAt: new Date(now - 3 * MIN),
        durationMs: 30,
        // The outage (dlv-a) is transient; the invalid bookings failed for good on their second try.
        result: i === 0 ? 'transient' : 'permanent',
        error: 'x',
      },
    ]);
  }
  await db.insert(attempts).values({
    eventId: evs[3]!.id,
    attempt: 1,
    worker: 'w',
    startedAt: new Date(now - 4 * MIN),
    durationMs: 5,
    result: 'success',
  });
  const base = {
    source: 'skylightchat',
    provider: 'skylight',
    httpStatus: 200,
    headers: { 'x-skylight-signature': '[redacted]' },
    bodyBytes: 10,
  };
  await db.insert(receipts).values([
    ...evs.map((e, i) => ({
      ...base,
      deliveryId: e.deliveryId,
      eventType: i < 3 ? 'message.received' : 'contact.created',
      outcome: 'accepted' as const,
      ackMs: 5 + i,
      lagMs: 100,
      receivedAt: new Date(now - 5 * MIN),
      eventId: e.id,
      body: '{"a":"<img src=x onerror=alert(1)>"}',
    })),
    {
      ...base,
      deliveryId: 'dlv-a',
      eventType: 'message.received',
      outcome: 'duplicate' as const,
      reason: 'delivery_id',
      ackMs: 2,
      receivedAt: new Date(now - 5 * MIN),
      eventId: evs[0]!.id,
    },
    {
      ...base,
      headers: { ...base.headers, 'x-skylight-event': '<b>pwned</b>' },
      deliveryId: 'dlv_%x',
      // The receiver keeps what a refused request claimed on its own row (never a key or a filter).
      eventType: '<b>pwned</b>',
      outcome: 'rejected' as const,
      reason: 'signature_mismatch',
      httpStatus: 400,
      ackMs: 1,
      receivedAt: new Date(now - 5 * MIN),
    },
  ]);
  // The rollups these receipts make, through the same buffer and writer the receiver uses.
  const buffer = new RollupBuffer();
  for (const r of await db.select().from(receipts)) buffer.add(r);
  await writeRollups(db, buffer.take());
});

after(() => h.close());

describe('deliveries', () => {
  test('pages by id with a cursor, newest first', async () => {
    const p1 = await listDeliveries(h.db, {}, { limit: 4 });
    assert.equal(p1.rows.length, 4);
    assert.ok(p1.nextId !== null);
    const p2 = await listDeliveries(h.db, {}, { limit: 4, cursor: p1.nextId! });
    assert.equal(p2.rows.length, 2);
    assert.equal(p2.nextId, null);
    const ids = [...p1.rows, ...p2.rows].map((r) => r.id);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => b - a),
    );
  });

  test('filters by outcome, type and delivery id prefix (pattern characters literal)', async () => {
    assert.equal((await listDeliveries(h.db, { outcome: ['duplicate'] }, { limit: 10 })).rows.length, 1);
    assert.equal(
      (await listDeliveries(h.db, { event_type: 'contact.created' }, { limit: 10 })).rows.length,
      1,
    );
    assert.equal((await listDeliveries(h.db, { q: 'dlv-a' }, { limit: 10 })).rows.length, 2);
    assert.equal((await listDeliveries(h.db, { q: 'dlv_%' }, { limit: 10 })).rows.length, 1);
    assert.equal((await listDeliveries(h.db, { from: new Date(now) }, { limit: 10 })).rows.length, 0);
  });

  test('several outcomes, the processing state, and what a refused request claimed', async () => {
    const both = await listDeliveries(h.db, { outcome: ['duplicate', 'rejected'] }, { limit: 10 });
    assert.deepEqual(both.rows.map((r) => r.outcome).sort(), ['duplicate', 'rejected']);
    const dead = await listDeliveries(h.db, { status: 'dead' }, { limit: 10 });
    // dlv-a's duplicate receipt points at the same dead event as its accepted one.
    assert.deepEqual(dead.rows.map((r) => `${r.delivery_id} ${r.event_status}`).sort(), [
      'dlv-a dead',
      'dlv-a dead',
      'dlv-b dead',
      'dlv-c dead',
    ]);
    const done = await listDeliveries(h.db, { status: 'processed' }, { limit: 10 });
    assert.deepEqual(
      done.rows.map((r) => r.delivery_id),
      ['dlv-d'],
    );
    const [refused] = (await listDeliveries(h.db, { outcome: ['rejected'] }, { limit: 1 })).rows;
    assert.equal(refused!.claimed_delivery_id, 'dlv_%x');
    assert.equal(refused!.claimed_event_type, '<b>pwned</b>');
    const [accepted] = (await listDeliveries(h.db, { outcome: ['accepted'] }, { limit: 1 })).rows;
    assert.equal(accepted!.claimed_delivery_id, null, 'only refusals carry claims');
  });

  test('detail has headers, body and the attempts of its event', async () => {
    const [row] = (await listDeliveries(h.db, { q: 'dlv-b', outcome: ['accepted'] }, { limit: 1 })).rows;
    const d = await getDelivery(h.db, row!.id);
    assert.equal(d?.headers['x-skylight-signature'], '[redacted]');
    assert.match(d?.body ?? '', /onerror/);
    assert.equal(d?.event?.status, 'dead');
    assert.equal(d?.attempts.length, 2);
    assert.equal(await getDelivery(h.db, 999_999), null);
  });
});

describe('events and dead letters', () => {
  test('lists events by status', async () => {
    assert.equal((await listEvents(h.db, { status: 'processed' }, { limit: 10 })).rows.length, 1);
  });

  test('dead letters carry failure times and total attempts; filters match', async () => {
    const all = await listDeadLetters(h.db, {}, { limit: 10 });
    assert.equal(all.rows.length, 3);
    assert.equal(all.rows[0]!.total_attempts, 2);
    assert.ok(all.rows[0]!.first_failure_at instanceof Date);
    assert.equal((await listDeadLetters(h.db, { error: 'ANSWERED 5' }, { limit: 10 })).rows.length, 1);
    assert.deepEqual(await countDeadLetters(h.db, { error: 'invalid' }), {
      matched: 2,
      transient: 0,
      permanent: 2,
    });
    assert.deepEqual(await countDeadLetters(h.db, {}), { matched: 3, transient: 1, permanent: 2 });
    assert.equal((await countDeadLetters(h.db, { error: '%' })).matched, 0);
    const transient = await listDeadLetters(h.db, { failure: 'transient' }, { limit: 10 });
    assert.deepEqual(
      transient.rows.map((r) => [r.delivery_id, r.failure]),
      [['dlv-a', 'transient']],
    );
    assert.deepEqual(
      (await listDeadLetters(h.db, { q: 'dlv-b' }, { limit: 10 })).rows.map((r) => r.delivery_id),
      ['dlv-b'],
    );
  });

  test('most recently dead first, not by arrival: pages by (died, id) lose and repeat nothing, two deaths in one µs and rows without the time included', async () => {
    // The last two have no death time (none should, since migration 0023): they come first.
    const died = [
      '05:00:04.000001',
      '05:00:01.5',
      '05:00:02.123456',
      '05:00:02.123456',
      '05:00:00',
      null,
      null,
    ];
    const ids: number[] = [];
    for (const [i, at] of died.entries()) {
      const [e] = await h.db
        .insert(events)
        .values({
          source: 'dlq-order',
          provider: 'skylight',
          deliveryId: `order-${i}`,
          eventType: 'contact.updated',
          payload: {},
          status: 'dead',
          deadAt: at === null ? null : sql`${`2026-12-05 ${at}+00`}::timestamptz`,
        })
        .returning({ id: events.id });
      ids.push(e!.id);
    }
    const expected = [6, 5, 0, 3, 2, 1, 4].map((i) => `order-${i}`);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 6; pages++) {
      const page = await listDeadLetters(
        h.db,
        { source: 'dlq-order' },
        { limit: 2, cursor: cursor === undefined ? undefined : decodeDlqCursor(cursor, 'newest') },
      );
      seen.push(...page.rows.map((r) => r.delivery_id));
      if (!page.nextCursor) break;
      // Through the API's own encoding, as a browser sends next_cursor back.
      cursor = encodeDlqCursor(page.nextCursor);
    }
    assert.deepEqual(seen, expected);
    // `expiring` stays by arrival (the order raw receipts reach retention).
    const expiring = await listDeadLetters(h.db, { source: 'dlq-order' }, { limit: 10, sort: 'expiring' });
    assert.deepEqual(
      expiring.rows.map((r) => r.id),
      ids,
    );
    assert.throws(() => decodeTimeCursor(encodeCursor(ids[0]!)), /Invalid cursor/);
    // The other tests here count every dead letter.
    await h.db.delete(events).where(eq(events.source, 'dlq-order'));
  });

  test('retry one re-queues it, keeps history, audits; a second retry conflicts', async () => {
    const [dead] = (await listDeadLetters(h.db, { error: '503' }, { limit: 1 })).rows;
    const e = await retryDeadLetter(h.db, dead!.id, who);
    assert.equal(e.status, 'pending');
    assert.equal(e.attempts, 0);
    assert.equal(e.dead_at, null);
    assert.equal((await getEvent(h.db, dead!.id))?.attempt_history.length, 2);
    await assert.rejects(
      retryDeadLetter(h.db, dead!.id, who),
      (err) => (err as AppError).code === 'conflict',
    );
    await assert.rejects(
      retryDeadLetter(h.db, 999_999, who),
      (err) => (err as AppError).code === 'not_found',
    );
  });

  test('bulk retry matches every dead letter of the filter; discard keeps the row', async () => {
    const [one] = (await listDeadLetters(h.db, {}, { limit: 1 })).rows;
    assert.equal((await discardDeadLetter(h.db, one!.id, who)).status, 'discarded');
    assert.deepEqual(await retryDeadLetters(h.db, { event_type: 'message.received' }, who), { matched: 1 });
    assert.deepEqual(await retryDeadLetters(h.db, {}, who), { matched: 0 });
    const actions = (await listAudit(h.db, { limit: 10 })).rows.map((r) => r.action);
    assert.deepEqual(actions, ['dlq_bulk_retry', 'dlq_bulk_retry', 'dlq_discard', 'dlq_retry']);
  });
  test('a dead letter re-queued by hand counts as retried, even if it died on its first attempt', async () => {
    const [e] = await h.db
      .insert(events)
      .values({
        source: 'skylightchat',
        provider: 'skylight',
        deliveryId: 'dlv-once',
        eventType: 'booking.created',
        fingerprint: 'fp-once',
        payload: { data: {} },
        status: 'dead',
        attempts: 1,
        deadAt: new Date(now),
        createdAt: new Date(now - 5 * MIN),
      })
      .returning({ id: events.id, retried: events.retried });
    assert.equal(e!.retried, false);
    await retryDeadLetter(h.db, e!.id, who);
    const [after] = await h.db.select().from(events).where(eq(events.id, e!.id));
    assert.equal(after!.retried, true);
    await h.db.delete(events).where(eq(events.id, e!.id));
  });
});

describe('metrics', () => {
  const q = { from: new Date(now - 15 * MIN), to: new Date(now) };
  // Ack times of the receipts we acknowledged: four accepted and the duplicate. The rejected one's
  // quick 400 counts as a refusal, never in the ack figures (anyone can send those).
  const ACK_HIST = [5, 6, 7, 8, 2].reduce((h, ms) => record(h, ms), {} as Histogram);

  test('latency series from rollups, one point per minute', async () => {
    const ack = await latencyOverTime(h.db, 'ack', q);
    assert.equal(ack.bucketS, 60);
    assert.ok(ack.points.length >= 15 && ack.points.length <= 16);
    assert.equal(
      ack.points.reduce((s, p) => s + p.count, 0),
      5,
    );
    const minute = new Date(Math.floor((now - 5 * MIN) / MIN) * MIN).toISOString();
    assert.deepEqual(
      ack.points.filter((p) => p.count > 0),
      [{ t: minute, ...summarize(ACK_HIST) }],
    );
    const lag = await latencyOverTime(h.db, 'lag', { ...q, event_type: 'contact.created' });
    assert.equal(
      lag.points.reduce((s, p) => s + p.count, 0),
      1,
    );
    // The duplicate and the rejected receipt have no lag.
    const allLag = await latencyOverTime(h.db, 'lag', q);
    assert.equal(
      allLag.points.reduce((s, p) => s + p.count, 0),
      4,
    );
  });

  test('latency series over a day: 5-minute points merged from the minute rows, same numbers', async () => {
    const day = { from: new Date(now - 24 * 60 * MIN), to: new Date(now) };
    const ack = await latencyOverTime(h.db, 'ack', day);
    assert.equal(ack.bucketS, 300);
    assert.ok(ack.points.length >= 288 && ack.points.length <= 289);
    const fiveMin = new Date(Math.floor((now - 5 * MIN) / (5 * MIN)) * 5 * MIN).toISOString();
    assert.deepEqual(
      ack.points.filter((p) => p.count > 0),
      [{ t: fiveMin, ...summarize(ACK_HIST) }],
    );
  });

  test('outcomes, retry rate and summary', async () => {
    const o = await outcomesOverTime(h.db, q);
    assert.equal(
      o.points.reduce((s, p) => s + p.accepted, 0),
      4,
    );
    const rr = await retryRate(h.db, q);
    const msg = rr.find((r) => r.event_type === 'message.received')!;
    assert.equal(msg.events, 3);
    assert.equal(msg.retried, 3);
    assert.equal(msg.duplicates, 1);
    assert.equal(msg.duplicate_rate, 1 / 4);
    const s = await summary(h.db, q);
    assert.equal(s.total, 6);
    assert.equal(s.totals.rejected, 1);
    assert.equal(s.ack_ms.count, 5, 'the rejected request is not an ack');
    assert.equal(s.deliveries_per_min, 5 / 15);
    assert.ok(s.handler_ms.count >= 7);
    assert.equal(typeof s.queue_depth, 'number');
    assert.equal(s.retry_rate, 3 / 4);
  });

  test('30 days: hourly counts give the same totals, outcome points cover whole hours', async () => {
    const q30 = { from: new Date(now - 30 * 24 * 60 * MIN), to: new Date(now + MIN) };
    const o = await outcomesOverTime(h.db, q30);
    assert.ok(o.bucketS >= 3600);
    assert.equal(
      o.points.reduce((s, p) => s + p.accepted + p.duplicate + p.rejected, 0),
      6,
    );
    const s = await summary(h.db, q30);
    assert.equal(s.total, 6);
    assert.equal(s.totals.accepted, 4);
    const rr = await retryRate(h.db, q30);
    assert.deepEqual(
      rr.map((r) => [r.event_type, r.events, r.retried]),
      [
        ['contact.created', 1, 0],
        ['message.received', 3, 3],
      ],
    );
    // A range that starts after the receipts' minute but inside their hour counts none of them.
    const late = await summary(h.db, { from: new Date(now - 4 * MIN), to: new Date(now + 180 * MIN) });
    assert.equal(late.total, 0);
  });
});

describe('the queue gauge', () => {
  test('the oldest wait counts from when an event became due, not from when it was created', async () => {
    const z = await openTestDb();
    try {
      const make = (deliveryId: string, createdAgoS: number, dueInS: number) =>
        z.db.execute(sql`insert into events (source, provider, delivery_id, event_type, payload, created_at, next_attempt_at)
          values ('skylightchat', 'skylight', ${deliveryId}, 'contact.created', '{}'::jsonb,
                  now() - make_interval(secs => ${createdAgoS}), now() + make_interval(secs => ${dueInS}))`);
      // Two days old, in a 10-minute backoff: nobody waits for a worker.
      await make('backoff', 2 * 86_400, 600);
      assert.equal((await queueDepth(z.db)).oldestPendingS, null);
      // A week-old dead letter re-queued a minute ago has waited a minute.
      await make('requeued', 7 * 86_400, -60);
      const q = await queueDepth(z.db);
      assert.equal(q.depth, 2);
      assert.ok(q.oldestPendingS! >= 59 && q.oldestPendingS! < 120, `${q.oldestPendingS}`);
    } finally {
      await z.close();
    }
  });
});

describe('a database server whose time zone is not UTC', () => {
  test("draws the same outcome bars (its bins start at UTC midnight, as the chart's buckets do)", async () => {
    const z = await openTestDb();
    let zoned: Awaited<ReturnType<typeof openDb>> | null = null;
    try {
      // Set before any chart query: a self-hosted server takes the machine's zone at initdb.
      if (z.url) {
        await z.db.execute(sql.raw(`alter database ${z.name} set timezone = 'Asia/Kolkata'`));
        zoned = await openDb({ url: z.url, migrate: false });
      } else await z.db.execute(sql`set timezone = 'Asia/Kolkata'`);
      const db = zoned?.db ?? z.db;
      const at = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 5 * 3_600_000;
      await writeRollups(db, [
        {
          minute: at,
          source: 'skylightchat',
          eventType: 'contact.created',
          outcome: 'accepted',
          count: 3,
          ack: {},
          lag: {},
        },
      ]);
      const q30 = { from: new Date(Date.now() - 30 * 86_400_000), to: new Date() };
      const o = await outcomesOverTime(db, q30);
      assert.ok(o.bucketS >= 3600 && o.bucketS % 3600 === 0);
      assert.equal(
        o.points.reduce((n, p) => n + p.accepted, 0),
        3,
      );
    } finally {
      await zoned?.close();
      await z.close();
    }
  });
});

describe('settings', () => {
  test('insert-if-absent has one winner', async () => {
    assert.equal(await insertSettingIfAbsent(h.db, 'k', '1'), true);
    assert.equal(await insertSettingIfAbsent(h.db, 'k', '2'), false);
  });
});
