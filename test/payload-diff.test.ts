import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { events, receipts } from '@/db/schema';
import { parseJsonLossless } from '@/lib/json';
import { deliveryComparisons } from '@/lib/payload/compare';
import { diffPayloads, objectRefOf } from '@/lib/payload/diff';
import { openTestDb, type TestDb } from './helpers/db';

// A delivery's detail page shows its payload against the previous delivery about the same object
// and, for a resend or replay, against the original (issue 17).

test('diff rows name each changed field with its JSON before and after, in path order', () => {
  const before = { data: { contact: { id: 7, email: 'a@b.test', tags: ['x'], phone: '+1' } } };
  const after = { data: { contact: { id: 7, email: 'c@d.test', tags: ['x', 'y'], tier: 'gold' } } };
  assert.deepEqual(diffPayloads(before, after), {
    changes: [
      { path: 'data.contact.email', kind: 'changed', before: '"a@b.test"', after: '"c@d.test"' },
      { path: 'data.contact.phone', kind: 'removed', before: '"+1"' },
      { path: 'data.contact.tags[1]', kind: 'added', after: '"y"' },
      { path: 'data.contact.tier', kind: 'added', after: '"gold"' },
    ],
    truncated: 0,
  });
  assert.deepEqual(diffPayloads({ a: 1 }, { a: 1 }), { changes: [], truncated: 0 });
  // A type change is a change, its values shown as JSON (the quotes tell a string from a number).
  assert.deepEqual(diffPayloads({ n: 1 }, { n: '1' }).changes, [
    { path: 'n', kind: 'changed', before: '1', after: '"1"' },
  ]);
  const wide = diffPayloads({}, Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`k${i}`, i])));
  assert.equal(wide.changes.length, 200);
  assert.equal(wide.truncated, 50);
  assert.equal(diffPayloads({ s: 'x'.repeat(2000) }, {}).changes[0]!.before!.length, 501);
});

test('numbers past what a double holds are compared by their digits, and shown as sent', () => {
  const parse = parseJsonLossless;
  assert.deepEqual(
    diffPayloads(parse('{"id":9007199254740993,"n":1}'), parse('{"id":9007199254740992,"n":1}')).changes,
    [{ path: 'id', kind: 'changed', before: '9007199254740993', after: '9007199254740992' }],
  );
  assert.deepEqual(diffPayloads(parse('{"id":9007199254740993}'), parse('{"id":9007199254740993}')), {
    changes: [],
    truncated: 0,
  });
  assert.deepEqual(diffPayloads(parse('{}'), parse('{"c":{"ids":[12345678901234567890]}}')).changes, [
    { path: 'c', kind: 'added', after: '{"ids":[12345678901234567890]}' },
  ]);
  assert.deepEqual(diffPayloads(parse('1e400'), parse('2e400')).changes, [
    { path: '', kind: 'changed', before: '1e400', after: '2e400' },
  ]);
});

test('the object of an event: nested or flat, by the event type’s entity', () => {
  assert.deepEqual(objectRefOf('contact.updated', { data: { contact: { id: 42 } } }), {
    entity: 'contact',
    id: '42',
  });
  assert.deepEqual(objectRefOf('booking.created', { data: { id: 'b-9' } }), { entity: 'booking', id: 'b-9' });
  assert.equal(objectRefOf('contact.updated', { data: { contact: { name: 'x' } } }), null);
  assert.equal(objectRefOf('contact.updated', { data: null }), null);
  assert.equal(objectRefOf('contact.updated', 'text'), null);
});

let db: TestDb;
before(async () => {
  db = await openTestDb();
});
after(async () => {
  await db.close();
});

let n = 0;
/** One delivery as the receiver stores it: the event (when queued) and its receipt. */
async function store(
  eventType: string,
  data: Record<string, unknown>,
  opts: { deliveryId?: string; eventId?: number; outcome?: 'accepted' | 'duplicate' } = {},
) {
  n++;
  const deliveryId = opts.deliveryId ?? `diff-${n}`;
  return storeText(eventType, JSON.stringify({ event: eventType, delivery_id: deliveryId, data }), {
    ...opts,
    deliveryId,
  });
}

/** The same from the body's exact text: the event's payload is that text as jsonb. */
async function storeText(
  eventType: string,
  body: string,
  opts: { deliveryId: string; eventId?: number; outcome?: 'accepted' | 'duplicate' },
) {
  const { deliveryId } = opts;
  let eventId = opts.eventId;
  if (eventId === undefined) {
    const [e] = await db.db
      .insert(events)
      .values({
        source: 'skylightchat',
        provider: 'skylight',
        deliveryId,
        eventType,
        payload: sql`${body}::jsonb`,
      })
      .returning({ id: events.id });
    eventId = e!.id;
  }
  const [r] = await db.db
    .insert(receipts)
    .values({
      source: 'skylightchat',
      provider: 'skylight',
      deliveryId,
      eventType,
      outcome: opts.outcome ?? 'accepted',
      httpStatus: 200,
      ackMs: 1,
      headers: {},
      body,
      bodyBytes: body.length,
      eventId,
    })
    .returning({ id: receipts.id });
  return { receiptId: r!.id, eventId, deliveryId };
}

test('a delivery is compared with the previous one about the same object, across event types', async () => {
  const created = await store('contact.created', { contact: { id: 4242, email: 'old@example.test' } });
  await store('contact.updated', { contact: { id: 9999, email: 'someone-else@example.test' } });
  await store('message.received', { message: { id: 4242, text: 'same id, other entity' } });
  const updated = await store('contact.updated', {
    contact: { id: 4242, email: 'new@example.test', tier: 'gold' },
  });

  const c = await deliveryComparisons(db.db, updated.receiptId);
  assert.deepEqual(c?.object, { entity: 'contact', id: '4242' });
  assert.equal(c?.previous?.event_id, created.eventId);
  assert.equal(c?.previous?.receipt_id, created.receiptId);
  assert.deepEqual(c?.previous?.changes, [
    {
      path: 'data.contact.email',
      kind: 'changed',
      before: '"old@example.test"',
      after: '"new@example.test"',
    },
    { path: 'data.contact.tier', kind: 'added', after: '"gold"' },
    {
      path: 'delivery_id',
      kind: 'changed',
      before: `"${created.deliveryId}"`,
      after: `"${updated.deliveryId}"`,
    },
    { path: 'event', kind: 'changed', before: '"contact.created"', after: '"contact.updated"' },
  ]);
  assert.equal(c?.original, null, 'the first receipt of a delivery has no original');

  // The first delivery about an object has no previous one.
  assert.equal((await deliveryComparisons(db.db, created.receiptId))?.previous, null);
  assert.equal(await deliveryComparisons(db.db, 987654), null);
});

test('a resent delivery is compared with its original receipt', async () => {
  const first = await store('contact.updated', { contact: { id: 77, email: 'a@example.test' } });
  // The provider resends the same delivery id with a changed body (recorded as a duplicate of the event).
  const resend = await store(
    'contact.updated',
    { contact: { id: 77, email: 'a@example.test', note: 'resent' } },
    { deliveryId: first.deliveryId, eventId: first.eventId, outcome: 'duplicate' },
  );
  const c = await deliveryComparisons(db.db, resend.receiptId);
  assert.equal(c?.original?.receipt_id, first.receiptId);
  assert.deepEqual(c?.original?.changes, [{ path: 'data.contact.note', kind: 'added', after: '"resent"' }]);
});

test('a replay differing only in a 64-bit id is not "the same payload": previous and original compared by digits', async () => {
  const text = (id: string, deliveryId: string) =>
    `{"event":"contact.updated","delivery_id":"${deliveryId}","data":{"contact":{"id":777,"owner_id":${id}}}}`;
  const insert = (id: string, deliveryId: string, eventId?: number) =>
    insertText(text(id, deliveryId), deliveryId, eventId);
  const insertText = (body: string, deliveryId: string, eventId?: number) =>
    storeText('contact.updated', body, { deliveryId, eventId });
  const change = {
    path: 'data.contact.owner_id',
    kind: 'changed',
    before: '9007199254740993',
    after: '9007199254740992',
  };
  const first = await insert('9007199254740993', 'big-1');
  const resend = await insert('9007199254740992', 'big-1', first.eventId);
  assert.deepEqual((await deliveryComparisons(db.db, resend.receiptId))?.original?.changes, [change]);

  // An object whose own id is past 2^53 is still found, by its digits.
  const owner = (id: string, deliveryId: string) =>
    `{"event":"contact.updated","delivery_id":"${deliveryId}","data":{"contact":{"id":${id},"tier":"${deliveryId}"}}}`;
  const bigFirst = await insertText(owner('9007199254740993', 'big-owner-1'), 'big-owner-1');
  await insertText(owner('9007199254740992', 'big-owner-2'), 'big-owner-2');
  const bigNext = await insertText(owner('9007199254740993', 'big-owner-3'), 'big-owner-3');
  const b = await deliveryComparisons(db.db, bigNext.receiptId);
  assert.deepEqual(b?.object, { entity: 'contact', id: '9007199254740993' });
  assert.equal(b?.previous?.event_id, bigFirst.eventId, 'not the neighbour one below it');

  const next = await insert('9007199254740992', 'big-2');
  const c = await deliveryComparisons(db.db, next.receiptId);
  assert.equal(c?.previous?.event_id, first.eventId);
  assert.deepEqual(
    c?.previous?.changes.filter((x) => x.path.startsWith('data.')),
    [change],
    'the stored payloads too, read as text',
  );
});
