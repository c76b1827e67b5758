import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { rowsOf } from '@/db/client';
import { retryDeadLetter } from '@/db/queries/dlq';
import { attempts, events } from '@/db/schema';
import { bulkRetry } from '@/lib/dlq/preview';
import { sign } from '@/lib/providers/skylight/signature';
import { openTestDb, type TestDb } from './helpers/db';
import { post, signedDelivery, uniqueId } from './helpers/deliveries';
import { type ReceiverServer, startReceiverServer } from './helpers/receiver-server';

// Late retries and replayed dead letters must not overwrite newer data or undo a deletion: an update
// applies only if it is newer than the stored state (issue 17, out-of-order protection).

const SECRET = 'whsec_order_test_0123456789abcdef0123456789abcdef0123456789abcdef01';
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

const WHO = { actor: 'ops@example.test', ip: null };
const at = (minutes: number) => new Date(Date.UTC(2026, 10, 30, 12, minutes)).toISOString();

/** Sends one delivery and waits until its event is done; returns the attempt's result. */
async function deliver(event: string, contact: Record<string, unknown>): Promise<string> {
  const d = signedDelivery(SECRET, { event, data: { contact } });
  assert.equal((await post(s.url, d)).status, 200);
  for (const end = Date.now() + 15_000; Date.now() < end; ) {
    const [e] = await db.db.select().from(events).where(eq(events.deliveryId, d.deliveryId));
    if (e?.status === 'processed') {
      const [a] = await db.db.select().from(attempts).where(eq(attempts.eventId, e.id));
      return a!.result;
    }
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error(`${d.deliveryId} not processed`);
}

async function contact(id: number) {
  return rowsOf<{ name: string }>(await db.db.execute(sql`select name from contacts where id = ${id}`))[0];
}

test('updates arriving 3-2-1 leave version 3; the older two are processed as skipped_stale', async () => {
  const id = uniqueId();
  assert.equal(await deliver('contact.updated', { id, name: 'v3', updated_at: at(3) }), 'success');
  assert.equal(await deliver('contact.updated', { id, name: 'v2', updated_at: at(2) }), 'skipped_stale');
  assert.equal(await deliver('contact.updated', { id, name: 'v1', updated_at: at(1) }), 'skipped_stale');
  assert.equal((await contact(id))?.name, 'v3');
});

test('in order 1-2-3 every update applies', async () => {
  const id = uniqueId();
  for (const v of [1, 2, 3]) {
    assert.equal(await deliver('contact.updated', { id, name: `v${v}`, updated_at: at(v) }), 'success');
  }
  assert.equal((await contact(id))?.name, 'v3');
});

test('a deletion is not undone by a late update (older, or as old as the deletion)', async () => {
  const id = uniqueId();
  await deliver('contact.created', { id, name: 'Ada', created_at: at(1) });
  assert.equal(await deliver('contact.deleted', { id, name: 'Ada', deleted_at: at(5) }), 'success');
  assert.equal(await deliver('contact.updated', { id, name: 'Late', updated_at: at(4) }), 'skipped_stale');
  assert.equal(await deliver('contact.updated', { id, name: 'Same', updated_at: at(5) }), 'skipped_stale');
  assert.equal(await contact(id), undefined);
  // A contact re-created after the deletion is a newer state and comes back.
  assert.equal(await deliver('contact.created', { id, name: 'Again', created_at: at(9) }), 'success');
  assert.equal((await contact(id))?.name, 'Again');
});

test('without updated_at the signed envelope timestamp orders the changes', async () => {
  const id = uniqueId();
  const send = async (name: string, ts: number) => {
    const d = signedDelivery(SECRET, {
      event: 'contact.updated',
      data: { contact: { id, name } },
      timestamp: ts,
    });
    assert.equal((await post(s.url, d)).status, 200);
    return d.deliveryId;
  };
  const now = Math.floor(Date.now() / 1000);
  await send('newer', now - 10);
  await new Promise((r) => setTimeout(r, 300));
  const late = await send('older', now - 60);
  for (const end = Date.now() + 15_000; Date.now() < end; ) {
    const [e] = await db.db.select().from(events).where(eq(events.deliveryId, late));
    if (e?.status === 'processed') break;
    await new Promise((r) => setTimeout(r, 30));
  }
  assert.equal((await contact(id))?.name, 'newer');
});

test('two changes with the same version: a dead letter of the earlier one, retried after the later one applied, is stale', async () => {
  const id = uniqueId();
  // The earlier change arrived first and died (its id is the lower one); the later one then applied.
  const [first] = await db.db
    .insert(events)
    .values({
      source: 'skylightchat',
      provider: 'skylight',
      deliveryId: `tie-${uniqueId()}`,
      eventType: 'contact.updated',
      payload: { event: 'contact.updated', data: { contact: { id, name: 'earlier', updated_at: at(7) } } },
      status: 'dead',
      deadAt: new Date(),
    })
    .returning({ id: events.id });
  assert.equal(await deliver('contact.updated', { id, name: 'later', updated_at: at(7) }), 'success');
  await retryDeadLetter(db.db, first!.id, { actor: 'ops@example.test', ip: null });
  for (const end = Date.now() + 15_000; Date.now() < end; ) {
    const [e] = await db.db.select().from(events).where(eq(events.id, first!.id));
    if (e?.status === 'processed') break;
    await new Promise((r) => setTimeout(r, 30));
  }
  const results = await db.db
    .select({ result: attempts.result })
    .from(attempts)
    .where(eq(attempts.eventId, first!.id));
  assert.deepEqual(
    results.map((r) => r.result),
    ['skipped_stale'],
  );
  assert.equal((await contact(id))?.name, 'later');
});

test('with no signed time the unsigned timestamp header orders nothing, and a deletion stays', async () => {
  const id = uniqueId();
  await deliver('contact.created', { id, name: 'Ada', created_at: at(1) });
  assert.equal(await deliver('contact.deleted', { id, name: 'Ada', deleted_at: at(5) }), 'success');
  // No timestamp in the body, no updated_at: only a header (unsigned) claiming the year 5138.
  const deliveryId = randomUUID();
  const body = JSON.stringify({
    event: 'contact.updated',
    delivery_id: deliveryId,
    data: { contact: { id, name: 'Ghost' } },
  });
  const res = await post(s.url, {
    body,
    headers: {
      'content-type': 'application/json',
      'x-skylight-event': 'contact.updated',
      'x-skylight-delivery': deliveryId,
      'x-skylight-timestamp': '99999999999',
      'x-skylight-signature': sign(body, SECRET),
    },
  });
  assert.equal(res.status, 200);
  let result = '';
  for (const end = Date.now() + 15_000; Date.now() < end && !result; ) {
    const [e] = await db.db.select().from(events).where(eq(events.deliveryId, deliveryId));
    if (e?.status === 'processed') {
      assert.equal(e.providerTs, null, 'the event keeps no unsigned time');
      result = (await db.db.select().from(attempts).where(eq(attempts.eventId, e.id)))[0]!.result;
    } else await new Promise((r) => setTimeout(r, 30));
  }
  assert.equal(result, 'skipped_stale');
  assert.equal(await contact(id), undefined, 'the deleted contact is not brought back');
  // The header set no version: a later re-creation applies.
  assert.equal(await deliver('contact.created', { id, name: 'Back', created_at: at(9) }), 'success');
  assert.equal((await contact(id))?.name, 'Back');
});

/** Waits until the event is processed; returns its attempts' results. */
async function resultsOf(eventId: number): Promise<string[]> {
  for (const end = Date.now() + 15_000; Date.now() < end; ) {
    const [e] = await db.db.select().from(events).where(eq(events.id, eventId));
    if (e?.status === 'processed') break;
    await new Promise((r) => setTimeout(r, 30));
  }
  const rows = await db.db
    .select({ result: attempts.result })
    .from(attempts)
    .where(eq(attempts.eventId, eventId));
  return rows.map((r) => r.result);
}

test('a deletion wins a tie with a change as old, whichever was processed first', async () => {
  const id = uniqueId();
  const deliveryId = `tie-delete-${uniqueId()}`;
  await deliver('contact.created', { id, name: 'Ada', created_at: at(1) });
  // The deletion arrived first and died; the change with the same time then applied.
  const [deletion] = await db.db
    .insert(events)
    .values({
      source: 'skylightchat',
      provider: 'skylight',
      deliveryId,
      eventType: 'contact.deleted',
      payload: { event: 'contact.deleted', data: { contact: { id, deleted_at: at(7) } } },
      status: 'dead',
      deadAt: new Date(),
    })
    .returning({ id: events.id });
  assert.equal(await deliver('contact.updated', { id, name: 'Ada2', updated_at: at(7) }), 'success');
  const preview = await bulkRetry(db.db, { q: deliveryId }, { dryRun: true, excludeSuperseded: false }, WHO);
  assert.equal(preview.dry_run && preview.superseded, 0, 'the preview agrees: it would apply');
  await retryDeadLetter(db.db, deletion!.id, WHO);
  assert.deepEqual(await resultsOf(deletion!.id), ['success']);
  assert.equal(await contact(id), undefined, 'the contact is deleted');
});

test('a deletion that says not when it happened is versioned at its receipt: an older change does not bring it back', async () => {
  const id = uniqueId();
  await deliver('contact.created', { id, name: 'Ada', created_at: at(1) });
  // No deleted_at and no timestamp in the body.
  const deliveryId = randomUUID();
  const body = JSON.stringify({
    event: 'contact.deleted',
    delivery_id: deliveryId,
    data: { contact: { id } },
  });
  const res = await post(s.url, {
    body,
    headers: {
      'content-type': 'application/json',
      'x-skylight-event': 'contact.deleted',
      'x-skylight-delivery': deliveryId,
      'x-skylight-signature': sign(body, SECRET),
    },
  });
  assert.equal(res.status, 200);
  const [e] = await db.db.select().from(events).where(eq(events.deliveryId, deliveryId));
  assert.deepEqual(await resultsOf(e!.id), ['success']);
  const [v] = rowsOf<{ deleted: boolean }>(
    await db.db.execute(sql`select deleted from entity_versions where entity = 'contact' and id = ${id}`),
  );
  assert.equal(v?.deleted, true, 'a tombstone');
  // A change made before it (a retried dead letter, a late retry) is stale.
  assert.equal(await deliver('contact.updated', { id, name: 'Zombie', updated_at: at(4) }), 'skipped_stale');
  assert.equal(await contact(id), undefined);
});
