import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { inArray, sql } from 'drizzle-orm';
import { receipts } from '@/db/schema';
import { metrics } from '@/lib/observability/metrics';
import { post, uniqueId } from './helpers/deliveries';
import { type ReceiverServer, startReceiverServer } from './helpers/receiver-server';

// The background recorder writes the receipts of requests answered without a durable write
// (refused signatures, 503s). Those answers are given during faults, so a fault must delay their
// rows, not drop them; only a row whose values the database refuses is dropped, alone.
const SECRET = 'whsec_recorder_test_0123456789abcdef0123456789abcdef0123456789abcdef';
let s: ReceiverServer;
before(async () => {
  s = await startReceiverServer({ secrets: [SECRET], worker: false });
});
after(() => s.close());

const badSignature = (marker: string) =>
  post(s.url, {
    body: JSON.stringify({ event: 'contact.created', delivery_id: marker, data: {} }),
    headers: {
      'content-type': 'application/json',
      'x-skylight-delivery': marker,
      'x-skylight-signature': 'a'.repeat(64),
    },
  });
const stored = async (markers: string[]) =>
  (await s.db.db.select().from(receipts).where(inArray(receipts.deliveryId, markers))).map(
    (r) => r.deliveryId,
  );
const dropped = async () => (await metrics.recorderDropped.get()).values[0]?.value ?? 0;

async function failInserts(errcode: string, onlyFor?: string) {
  await s.db.db.execute(
    sql.raw(`create or replace function recorder_fail() returns trigger language plpgsql as $$
      begin raise exception 'receipts refused for this test' using errcode = '${errcode}'; end $$`),
  );
  await s.db.db.execute(
    sql.raw(`create trigger recorder_fail before insert on receipts for each row
      ${onlyFor ? `when (new.delivery_id = '${onlyFor}')` : ''} execute function recorder_fail()`),
  );
  return () => s.db.db.execute(sql`drop trigger recorder_fail on receipts`);
}

for (const [fault, errcode] of [
  ['a lock timeout', '55P03'],
  ['a statement timeout', '57014'],
  ['a read-only database (after a failover)', '25006'],
  ['too many connections', '53300'],
] as const) {
  test(`${fault} while writing refusals: the rows wait and are written once it clears`, async () => {
    const before = await dropped();
    const markers = [1, 2, 3].map(() => `recorder-${uniqueId()}`);
    const clear = await failInserts(errcode);
    try {
      for (const m of markers) assert.equal((await badSignature(m)).status, 400);
      await s.recorder.flush();
      assert.deepEqual(await stored(markers), []);
      assert.equal(s.recorder.pending, markers.length, 'kept for the next write');
    } finally {
      await clear();
    }
    const end = Date.now() + 10_000;
    while (s.recorder.pending > 0 && Date.now() < end) await s.recorder.flush();
    assert.deepEqual((await stored(markers)).sort(), [...markers].sort());
    assert.equal(await dropped(), before);
  });
}

test('a row whose values the database refuses is dropped alone; its neighbours are written', async () => {
  const before = await dropped();
  const markers = [1, 2, 3].map(() => `recorder-${uniqueId()}`);
  const clear = await failInserts('22003', markers[1]);
  try {
    for (const m of markers) assert.equal((await badSignature(m)).status, 400);
    await s.recorder.flush();
  } finally {
    await clear();
  }
  assert.deepEqual((await stored(markers)).sort(), [markers[0], markers[2]].sort());
  assert.equal(s.recorder.pending, 0);
  assert.equal(await dropped(), before + 1);
});
