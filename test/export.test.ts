import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { iterateDeliveries } from '@/db/queries/deliveries';
import { iterateDeadLetters } from '@/db/queries/dlq';
import { indexReceiptBodies } from '@/db/queries/search';
import { events, receipts } from '@/db/schema';
import { exportFilename, exportResponse } from '@/lib/api/stream-export';
import { openTestDb, type TestDb } from './helpers/db';

// Exports of the deliveries and dead letters (issue 17): the list's filters, every matching row
// across pages, cells a spreadsheet would run as formulas neutralised.

let db: TestDb;
before(async () => {
  db = await openTestDb();
  const base = {
    source: 'skylightchat',
    provider: 'skylight',
    httpStatus: 200,
    ackMs: 1,
    headers: {},
    bodyBytes: 2,
  };
  // A refused request's claimed id is whatever the sender wrote: commas, quotes, a newline, a formula.
  await db.db.insert(receipts).values([
    {
      ...base,
      deliveryId: 'plain-1',
      eventType: 'contact.created',
      outcome: 'accepted',
      body: '{"x":"a@b.test"}',
    },
    {
      ...base,
      deliveryId: '=HYPERLINK("http://evil.test","x"),\nnext',
      eventType: 'contact.created',
      outcome: 'rejected',
      httpStatus: 400,
      reason: '@SUM(1+1)',
      body: '{"x":"a@b.test"}',
    },
    { ...base, deliveryId: '+cmd', eventType: 'message.received', outcome: 'ignored', body: '{"y":1}' },
    ...Array.from({ length: 7 }, (_, i) => ({
      ...base,
      deliveryId: `bulk-${i}`,
      eventType: 'message.sent',
      outcome: 'accepted' as const,
      body: null,
    })),
  ]);
  await db.db.insert(events).values([
    {
      source: 'skylightchat',
      provider: 'skylight',
      deliveryId: 'dead-1',
      eventType: 'contact.updated',
      payload: {},
      status: 'dead',
      deadAt: new Date(),
      lastError: '-1 rows, "quoted"',
    },
    {
      source: 'skylightchat',
      provider: 'skylight',
      deliveryId: 'dead-2',
      eventType: 'booking.created',
      payload: {},
      status: 'dead',
      deadAt: new Date(),
      lastError: 'timeout',
    },
  ]);
  // The search copy, as the background job makes it.
  await indexReceiptBodies(db.db);
});
after(() => db.close());

test('deliveries CSV: every matching row across pages, escaped and neutralised', async () => {
  const columns = ['delivery_id', 'outcome', 'reason'] as const;
  const res = await exportResponse(
    iterateDeliveries(db.db, { event_type: 'contact.created' }, 1),
    columns,
    'csv',
    'd',
  );
  assert.equal(
    await res.text(),
    'delivery_id,outcome,reason\r\n' +
      `"'=HYPERLINK(""http://evil.test"",""x""),\nnext",rejected,'@SUM(1+1)\r\n` +
      'plain-1,accepted,\r\n',
  );
  const ignored = await exportResponse(
    iterateDeliveries(db.db, { outcome: ['ignored'] }),
    columns,
    'csv',
    'd',
  );
  assert.equal(await ignored.text(), "delivery_id,outcome,reason\r\n'+cmd,ignored,\r\n");
});

test('deliveries NDJSON honours the content search and pages through everything', async () => {
  const text = await (
    await exportResponse(iterateDeliveries(db.db, { text: 'a@b.test' }, 1), ['delivery_id'], 'ndjson', 'd')
  ).text();
  assert.deepEqual(
    text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).delivery_id),
    ['=HYPERLINK("http://evil.test","x"),\nnext', 'plain-1'],
    'NDJSON keeps the value as it is: JSON needs no neutralising',
  );
  let n = 0;
  for await (const _ of iterateDeliveries(db.db, { outcome: ['accepted'] }, 3)) n++;
  assert.equal(n, 8, 'pages of 3: all eight accepted rows, none twice');
});

test('dead letters CSV honours the error filter', async () => {
  const res = await exportResponse(
    iterateDeadLetters(db.db, { error: 'rows' }),
    ['delivery_id', 'last_error'],
    'csv',
    'x',
  );
  assert.equal(await res.text(), `delivery_id,last_error\r\ndead-1,"'-1 rows, ""quoted"""\r\n`);
});

test('the file name carries the filters, reduced to safe characters', async () => {
  assert.equal(
    exportFilename('deliveries', {
      outcome: ['ignored', 'malformed'],
      text: 'a@b.test',
      from: new Date('2026-11-30T02:10:00Z'),
      q: undefined,
      path: 'data.contact.email',
      value: '"; rm -rf /',
    }),
    'deliveries_outcome-ignored+malformed_text-a@b.test_from-2026-11-30T02-10-00.000Z_path-data.contact.email_value-rm--rf',
  );
  const res = await exportResponse(
    (async function* () {})(),
    ['id'],
    'ndjson',
    exportFilename('dead-letters', { event_type: 'contact.updated' }),
  );
  assert.equal(
    res.headers.get('content-disposition'),
    'attachment; filename="dead-letters_event_type-contact.updated.ndjson"',
  );
});
