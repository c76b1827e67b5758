import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '@/db/client';
import { listDeliveries } from '@/db/queries/deliveries';
import { listDeadLetters } from '@/db/queries/dlq';
import { indexReceiptBodies, pathDocuments, searchProgress, sweepLateReceipts } from '@/db/queries/search';
import { receipts } from '@/db/schema';
import { deliveriesQuerySchema } from '@/lib/api/schemas';
import { openTestDb, type TestDb } from './helpers/db';

// Content search (issue 17): text anywhere in the body and a JSON path equal to a value, on the
// deliveries and the dead letters, through the search index the background job fills.

let db: TestDb;
const ids: Record<string, number> = {};

const envelope = (event: string, data: Record<string, unknown>) =>
  JSON.stringify({ event, delivery_id: `d-${Math.random()}`, timestamp: '2026-11-30T12:00:00Z', data });

/** A receipt with `body`; `id` chosen by the test (a late commit, far above the others) or the sequence's. */
async function receipt(
  name: string,
  body: string | null,
  outcome: 'accepted' | 'malformed' = 'accepted',
  id?: number,
) {
  const [r] = await db.db
    .insert(receipts)
    .values({
      ...(id === undefined ? {} : { id }),
      source: 'skylightchat',
      provider: 'skylight',
      deliveryId: name,
      eventType: 'contact.updated',
      outcome,
      httpStatus: 200,
      ackMs: 1,
      headers: {},
      body,
      bodyBytes: body?.length ?? 0,
    })
    .returning({ id: receipts.id });
  ids[name] = r!.id;
}

before(async () => {
  db = await openTestDb();
  await receipt(
    'email',
    envelope('contact.updated', { contact: { id: 4242, email: 'a@b.test', name: 'Ann' } }),
  );
  await receipt('other-email', envelope('contact.updated', { contact: { id: 7, email: 'c@d.test' } }));
  await receipt('flat', envelope('contact.updated', { id: 9, email: 'a@b.test' }));
  await receipt('string-id', envelope('contact.updated', { contact: { id: '4242' } }));
  await receipt('percent', envelope('message.received', { message: { content: 'save 100% now_ok' } }));
  await receipt('backslash', envelope('message.received', { message: { content: 'C:\\temp' } }));
  await receipt('tags', envelope('contact.updated', { contact: { id: 11, tags: ['vip'] } }));
  await receipt('not-json', 'phone=+15551234567&email=a@b.test', 'malformed');
  await receipt('no-body', null);
  // One dead letter whose receipt mentions the email, one that does not.
  for (const [name, dead] of [
    ['email', true],
    ['other-email', true],
  ] as const) {
    const [e] = rowsOf<{ id: number }>(
      await db.db.execute(sql`insert into events (source, provider, delivery_id, event_type, payload, status, dead_at)
        values ('skylightchat', 'skylight', ${name}, 'contact.updated', '{}'::jsonb, ${dead ? 'dead' : 'pending'}, now())
        returning id`),
    );
    await db.db.execute(sql`update receipts set event_id = ${e!.id} where id = ${ids[name]!}`);
  }
});
after(() => db.close());

const names = (rows: { id: number }[]) =>
  rows.map((r) => Object.keys(ids).find((k) => ids[k] === r.id)).sort();
const search = async (f: { text?: string; path?: string; value?: string }) =>
  names((await listDeliveries(db.db, f, { limit: 50 })).rows);

function cases() {
  test('text anywhere in the body, case-insensitive, including bodies that are not JSON', async () => {
    assert.deepEqual(await search({ text: 'a@b.test' }), ['email', 'flat', 'not-json']);
    assert.deepEqual(await search({ text: 'A@B.TEST' }), ['email', 'flat', 'not-json']);
    assert.deepEqual(await search({ text: '+1555123' }), ['not-json']);
    assert.deepEqual(await search({ text: 'nobody@nowhere.test' }), []);
  });

  test('wildcard characters are taken literally', async () => {
    assert.deepEqual(await search({ text: '100%' }), ['percent']);
    assert.deepEqual(await search({ text: '0% now_ok' }), ['percent']);
    // `%` and `_` alone would match everything as LIKE patterns.
    assert.deepEqual(await search({ text: '%%%' }), []);
    assert.deepEqual(await search({ text: '___' }), []);
    // In the JSON text a backslash is escaped: C:\temp is stored as C:\\temp.
    assert.deepEqual(await search({ text: 'C:\\\\temp' }), ['backslash']);
    assert.deepEqual(await search({ text: 'C:\\temp' }), []);
  });

  test('a JSON path equal to a value; the same value elsewhere does not match', async () => {
    assert.deepEqual(await search({ path: 'data.contact.email', value: 'a@b.test' }), ['email']);
    assert.deepEqual(await search({ path: 'data.email', value: 'a@b.test' }), ['flat']);
    assert.deepEqual(await search({ path: 'data.contact.email', value: 'a@b' }), []);
    assert.deepEqual(await search({ path: 'data.contact.name', value: 'a@b.test' }), []);
    // A number matches the number and the string; a string that is not a number only the string.
    assert.deepEqual(await search({ path: 'data.contact.id', value: '4242' }), ['email', 'string-id']);
    // Equality, not containment: an array holding the value is not equal to it.
    assert.deepEqual(await search({ path: 'data.contact.tags', value: 'vip' }), []);
  });

  test('content filters combine with the other filters and reach the dead letters', async () => {
    assert.deepEqual(await search({ text: 'a@b.test', path: 'data.contact.id', value: '4242' }), ['email']);
    const dead = await listDeadLetters(db.db, { text: 'a@b.test' }, { limit: 50 });
    assert.deepEqual(
      dead.rows.map((r) => r.delivery_id),
      ['email'],
    );
    const byPath = await listDeadLetters(
      db.db,
      { path: 'data.contact.email', value: 'c@d.test' },
      { limit: 50 },
    );
    assert.deepEqual(
      byPath.rows.map((r) => r.delivery_id),
      ['other-email'],
    );
  });
}

describe('before the indexer ran', () => {
  test('nothing is found yet, and the progress says how many receipts wait', async () => {
    assert.deepEqual(await search({ text: 'a@b.test' }), []);
    assert.deepEqual(await search({ path: 'data.contact.email', value: 'a@b.test' }), []);
    const p = await searchProgress(db.db);
    assert.equal(p.indexed_through, 0);
    assert.equal(p.unindexed, 8, 'every receipt with a body waits');
  });
});

describe('after the indexer ran', () => {
  test('the indexer copies every body once, JSON ones with their jsonb', async () => {
    assert.equal(await indexReceiptBodies(db.db, 5), 5);
    assert.equal(await indexReceiptBodies(db.db, 5), 3);
    assert.equal(await indexReceiptBodies(db.db, 5), 0, 'caught up: nothing indexed twice');
    const rows = rowsOf<{ n: number; json: number }>(
      await db.db.execute(sql`select count(*)::int as n, count(payload)::int as json from receipt_search`),
    );
    assert.deepEqual(rows[0], { n: 8, json: 7 });
    const p = await searchProgress(db.db);
    assert.equal(p.indexed_through, ids['no-body']! - 1);
    assert.equal(p.unindexed, 0);
  });
  cases();
  test('deleting a receipt (retention) drops its search copy', async () => {
    await db.db.execute(sql`delete from receipts where id = ${ids.percent!}`);
    assert.deepEqual(await search({ text: '100%' }), []);
    delete ids.percent;
  });
});

describe('a receipt that commits after the indexer passed its id by more than the margin', () => {
  test('is indexed by the sweep of recent receipts, not by the batches', async () => {
    const late = (name: string, id: number) =>
      receipt(
        name,
        envelope('contact.updated', { contact: { id: 1, email: `${name}@late.test` } }),
        'accepted',
        id,
      );
    await late('far-ahead', 50_000);
    while ((await indexReceiptBodies(db.db, 50)) > 0);
    // Its id was taken long before, its commit came now: 2,000 below the highest indexed.
    await late('committed-late', 48_000);
    assert.equal(await indexReceiptBodies(db.db, 50), 0, 'behind the margin: the batches pass it by');
    assert.deepEqual(await search({ text: 'committed-late@late.test' }), []);
    assert.equal(await sweepLateReceipts(db.db, 90, 50), 1);
    assert.deepEqual(await search({ text: 'committed-late@late.test' }), ['committed-late']);
    assert.equal(await sweepLateReceipts(db.db, 90, 50), 0, 'once');
  });
});

test('the API takes text of 3+ characters, and path and value only together', () => {
  assert.equal(deliveriesQuerySchema.safeParse({ text: 'ab' }).success, false);
  assert.equal(deliveriesQuerySchema.safeParse({ text: 'abc' }).success, true);
  assert.equal(deliveriesQuerySchema.safeParse({ path: 'data.contact.email' }).success, false);
  assert.equal(deliveriesQuerySchema.safeParse({ value: 'x' }).success, false);
  assert.equal(deliveriesQuerySchema.safeParse({ path: 'data..email', value: 'x' }).success, false);
  assert.equal(deliveriesQuerySchema.safeParse({ path: "data.x') or 1=1", value: 'x' }).success, false);
  assert.deepEqual(pathDocuments('data.contact.email', 'a@b.test'), [
    '{"data":{"contact":{"email":"a@b.test"}}}',
  ]);
  assert.deepEqual(pathDocuments('a', 'true'), ['{"a":"true"}', '{"a":true}']);
  assert.deepEqual(pathDocuments('a', '9007199254740993'), [
    '{"a":"9007199254740993"}',
    '{"a":9007199254740993}',
  ]);
  assert.deepEqual(pathDocuments('a', '1e400'), ['{"a":"1e400"}', '{"a":1e400}']);
  assert.deepEqual(pathDocuments('a', '0x10'), ['{"a":"0x10"}'], 'not a JSON number');
  assert.deepEqual(pathDocuments('a', '1e10000'), ['{"a":"1e10000"}'], 'past numeric: text only');
});

describe('a path search for a number past 2^53', () => {
  test('finds that number exactly, not its neighbour, and 1e400 is not null', async () => {
    for (const [name, rid, contactId] of [
      ['big-exact', 60_001, '9007199254740993'],
      ['big-neighbour', 60_002, '9007199254740992'],
      ['null-id', 60_003, 'null'],
    ] as const) {
      await receipt(
        name,
        `{"event":"contact.updated","data":{"contact":{"id":${contactId}}}}`,
        'accepted',
        rid,
      );
    }
    while ((await indexReceiptBodies(db.db, 50)) > 0);
    assert.deepEqual(await search({ path: 'data.contact.id', value: '9007199254740993' }), ['big-exact']);
    assert.deepEqual(await search({ path: 'data.contact.id', value: '1e400' }), []);
    // Past numeric's range: matched as text, not a failed cast.
    assert.deepEqual(await search({ path: 'data.contact.id', value: '1e1000000' }), []);
    assert.deepEqual(await search({ path: 'data.contact.id', value: '-1e-1000000' }), []);
  });
});
