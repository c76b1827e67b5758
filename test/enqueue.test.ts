import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eq, inArray, sql } from 'drizzle-orm';
import { rowsOf } from '@/db/client';
import { auditLog, events, type ReceiptOutcome, receipts } from '@/db/schema';
import { enqueueDeliveries, enqueueDelivery } from '@/lib/deliveries/enqueue';
import { AppError } from '@/lib/errors';
import { openTestDb, type TestDb } from './helpers/db';
import { post, signedDelivery, uniqueId } from './helpers/deliveries';
import { type ReceiverServer, startReceiverServer } from './helpers/receiver-server';

// Enqueue a receipt (issue 17): an ignored or malformed receipt becomes an event once its cause is
// fixed, parsed through the provider contract; rejected ones are refused; dedupe still holds.

const SECRET = 'whsec_enqueue_test_0123456789abcdef0123456789abcdef0123456789ab';
const who = { actor: 'operator@example.test', ip: '127.0.0.1' };
let db: TestDb;
let s: ReceiverServer;
before(async () => {
  db = await openTestDb();
  s = await startReceiverServer({ secrets: [SECRET], db });
});
after(async () => {
  await s.close();
  await db.close();
});

/**
 * A receipt as an earlier version of the app stored it: the request was signed and verified, but
 * that version had no handler for the event type (ignored) or a parsing bug (malformed).
 */
async function storedAs(
  outcome: ReceiptOutcome,
  reason: string,
  event: string,
  contact: Record<string, unknown>,
) {
  const d = signedDelivery(SECRET, { event, data: { contact } });
  const [r] = await db.db
    .insert(receipts)
    .values({
      source: 'skylightchat',
      provider: 'skylight',
      deliveryId: outcome === 'malformed' ? null : d.deliveryId,
      eventType: outcome === 'malformed' ? null : event,
      outcome,
      reason,
      httpStatus: 200,
      ackMs: 1,
      headers: { ...d.headers, 'x-skylight-signature': '[redacted]' },
      body: d.body,
      bodyBytes: d.body.length,
    })
    .returning({ id: receipts.id });
  return { id: r!.id, deliveryId: d.deliveryId };
}

async function processed(deliveryId: string) {
  for (const end = Date.now() + 15_000; Date.now() < end; ) {
    const [e] = await db.db.select().from(events).where(eq(events.deliveryId, deliveryId));
    if (e?.status === 'processed') return e;
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error(`${deliveryId} not processed`);
}

const contactName = async (id: number) =>
  rowsOf<{ name: string }>(await db.db.execute(sql`select name from contacts where id = ${id}`))[0]?.name;
const eventCount = async (deliveryId: string) =>
  (await db.db.select().from(events).where(eq(events.deliveryId, deliveryId))).length;
const conflict = (pattern: RegExp) => (err: unknown) =>
  err instanceof AppError && err.code === 'conflict' && pattern.test(err.message);

test('an event type still without a handler stays ignored: queuing it is refused, nothing created', async () => {
  const d = signedDelivery(SECRET, { event: 'contact.merged', data: { contact: { id: uniqueId() } } });
  assert.equal((await post(s.url, d)).status, 200);
  const [r] = await db.db.select().from(receipts).where(eq(receipts.deliveryId, d.deliveryId));
  assert.equal(r!.outcome, 'ignored');
  await assert.rejects(enqueueDelivery(db.db, r!.id, who), conflict(/no handler for contact\.merged yet/));
  assert.equal(await eventCount(d.deliveryId), 0);
});

test('an ignored receipt is processed once a handler exists; enqueued twice it is one event', async () => {
  const id = uniqueId();
  const r = await storedAs('ignored', 'unknown_event_type', 'contact.updated', { id, name: 'Late Ann' });
  const first = await enqueueDelivery(db.db, r.id, who);
  assert.equal(first.created, true);
  const e = await processed(r.deliveryId);
  assert.equal(e.id, first.event_id);
  assert.equal(await contactName(id), 'Late Ann', 'the handler ran on the stored body');

  const again = await enqueueDelivery(db.db, r.id, who);
  assert.deepEqual(again, { event_id: first.event_id, created: false });
  assert.equal(await eventCount(r.deliveryId), 1);
  const [receipt] = await db.db.select().from(receipts).where(eq(receipts.id, r.id));
  assert.equal(receipt!.eventId, first.event_id, 'the receipt points at its event');
  const audit = await db.db
    .select()
    .from(auditLog)
    .where(eq(auditLog.target, String(r.id)));
  assert.deepEqual(
    audit.map((a) => [a.actor, a.action, (a.detail as { created: boolean }).created]),
    [
      [who.actor, 'delivery_enqueue', true],
      [who.actor, 'delivery_enqueue', false],
    ],
  );
});

test('malformed receipts by filter: the dry run counts and changes nothing, then they are processed', async () => {
  const ids = [uniqueId(), uniqueId()];
  const fixed = [
    await storedAs('malformed', 'invalid_envelope', 'contact.created', { id: ids[0], name: 'Fixed One' }),
    await storedAs('malformed', 'invalid_envelope', 'contact.created', { id: ids[1], name: 'Fixed Two' }),
  ];
  const broken = await db.db
    .insert(receipts)
    .values({
      source: 'skylightchat',
      provider: 'skylight',
      outcome: 'malformed',
      reason: 'not_json',
      httpStatus: 200,
      ackMs: 1,
      headers: {},
      body: '{"event": "contact.created", "data": ',
      bodyBytes: 36,
    })
    .returning({ id: receipts.id });
  const filter = { outcome: ['malformed' as const] };

  const preview = await enqueueDeliveries(db.db, filter, who, true);
  assert.equal(preview.matched, 3);
  assert.equal(preview.ready, 2);
  assert.deepEqual(preview.by_reason, { invalid_envelope: 2, not_json: 1 });
  assert.equal(
    Object.values(preview.failing).reduce((a, b) => a + b, 0),
    1,
  );
  assert.match(Object.keys(preview.failing)[0]!, /still not a valid delivery/);
  for (const f of fixed) assert.equal(await eventCount(f.deliveryId), 0, 'a dry run queues nothing');

  const done = await enqueueDeliveries(db.db, filter, who, false);
  assert.equal(done.dry_run, false);
  assert.deepEqual([done.created, done.existing], [2, 0]);
  for (const f of fixed) await processed(f.deliveryId);
  assert.deepEqual([await contactName(ids[0]!), await contactName(ids[1]!)], ['Fixed One', 'Fixed Two']);
  const [brokenRow] = await db.db.select().from(receipts).where(eq(receipts.id, broken[0]!.id));
  assert.equal(brokenRow!.eventId, null, 'the one still broken is left alone');

  const twice = await enqueueDeliveries(db.db, filter, who, false);
  assert.equal(twice.dry_run, false);
  assert.deepEqual([twice.created, twice.existing], [0, 0], 'bulk enqueue again: queued already, left out');
  assert.equal(twice.already_queued, 2);
  for (const f of fixed) assert.equal(await eventCount(f.deliveryId), 1);
  const bulk = await db.db.select().from(auditLog).where(eq(auditLog.action, 'delivery_bulk_enqueue'));
  assert.equal(bulk.length, 2);
  assert.equal(bulk[0]!.actor, who.actor);
  assert.deepEqual((bulk[0]!.detail as { created: number; matched: number }).created, 2);
});

test('two ignored receipts of one event (a resend under a new id) make one event; a pruned event is not made again', async () => {
  const id = uniqueId();
  const contact = { id, name: 'Resent' };
  const a = await storedAs('ignored', 'unknown_event_type', 'contact.updated', contact);
  const b = await storedAs('ignored', 'unknown_event_type', 'contact.updated', contact);
  const done = await enqueueDeliveries(db.db, { outcome: ['ignored'] }, who, false);
  assert.equal(done.dry_run, false);
  assert.deepEqual([done.created, done.existing], [1, 1]);
  const e = await processed(a.deliveryId);
  assert.equal(await eventCount(b.deliveryId), 0, 'no second event for the same content');
  const pointed = await db.db
    .select()
    .from(receipts)
    .where(inArray(receipts.id, [a.id, b.id]));
  assert.deepEqual(
    pointed.map((r) => r.eventId),
    [e.id, e.id],
  );
  // Retention prunes the processed event before the receipts: queuing again must not bring it back.
  await db.db.delete(events).where(eq(events.id, e.id));
  const again = await enqueueDeliveries(db.db, { outcome: ['ignored'] }, who, false);
  assert.equal(again.dry_run, false);
  assert.equal(again.created, 0);
  assert.equal(await eventCount(a.deliveryId), 0);
});

test('a rejected receipt (never authenticated) is refused, alone or by filter', async () => {
  const d = signedDelivery('whsec_wrong_secret_00000000000000000000000000000000000000', {
    event: 'contact.created',
    data: { contact: { id: uniqueId(), name: 'Forged' } },
  });
  assert.equal((await post(s.url, d)).status, 400);
  // Refusals are recorded in the background, off the request.
  await s.recorder.flush();
  const [r] = await db.db.select().from(receipts).where(eq(receipts.outcome, 'rejected'));
  await assert.rejects(
    enqueueDelivery(db.db, r!.id, who),
    conflict(/rejected: its signature was never verified/),
  );
  await assert.rejects(
    enqueueDeliveries(db.db, { outcome: ['rejected'] }, who, false),
    (err) => err instanceof AppError && err.code === 'bad_request',
  );
  // A filter that matches rejected receipts among others never takes them.
  const all = await enqueueDeliveries(db.db, {}, who, true);
  assert.equal(all.by_reason.signature_mismatch ?? 0, 0);
  assert.equal(await eventCount(d.deliveryId), 0);
});

test('an accepted delivery is not queued again by hand', async () => {
  const d = signedDelivery(SECRET, { event: 'contact.created', data: { contact: { id: uniqueId() } } });
  assert.equal((await post(s.url, d)).status, 200);
  const [r] = await db.db.select().from(receipts).where(eq(receipts.deliveryId, d.deliveryId));
  await assert.rejects(enqueueDelivery(db.db, r!.id, who), conflict(/this delivery is accepted/));
});

test('a bulk enqueue commits in chunks: a delivery arriving meanwhile is not held until the end', async () => {
  const rows = Array.from({ length: 1200 }, (_, i) => {
    const d = signedDelivery(SECRET, {
      event: 'contact.updated',
      data: { contact: { id: uniqueId(), name: `Chunk ${i}` } },
    });
    return {
      source: 'skylightchat',
      provider: 'skylight',
      deliveryId: d.deliveryId,
      eventType: 'contact.updated',
      outcome: 'ignored' as const,
      reason: 'chunk_test',
      httpStatus: 200,
      ackMs: 1,
      headers: d.headers,
      body: d.body,
      bodyBytes: d.body.length,
    };
  });
  await db.db.insert(receipts).values(rows);
  let bulkDoneAt = 0;
  const bulk = enqueueDeliveries(db.db, { outcome: ['ignored'] }, who, false).then((r) => {
    bulkDoneAt = performance.now();
    return r;
  });
  // The first chunk is being written: a delivery's write now.
  await new Promise((r) => setTimeout(r, 150));
  const d = signedDelivery(SECRET, { event: 'contact.updated', data: { contact: { id: uniqueId() } } });
  assert.equal((await post(s.url, d)).status, 200);
  const answeredAt = performance.now();
  const done = await bulk;
  assert.equal(done.dry_run, false);
  assert.equal(done.created, 1200);
  assert.ok(bulkDoneAt > answeredAt, 'the delivery was answered while the bulk enqueue still ran');
  const audits = await db.db.select().from(auditLog).where(eq(auditLog.action, 'delivery_bulk_enqueue'));
  assert.equal(
    audits.filter((a) => (a.detail as { created: number }).created === 1200).length,
    1,
    'one audit row for the whole run',
  );
});
