import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eq, inArray, sql } from 'drizzle-orm';
import { entityVersions, eventHistory, events } from '@/db/schema';
import { bulkRetry } from '@/lib/dlq/preview';
import { openTestDb, type TestDb } from './helpers/db';

// The bulk replay dry run (issue 17): exact counts on a crafted set of dead letters whose objects
// have newer stored states (superseded) or were deleted (missing), and the retry that leaves the
// superseded ones out.

const who = { actor: 'operator@example.test', ip: '127.0.0.1' };
let db: TestDb;
const id: Record<string, number> = {};
const t = (h: number) => new Date(Date.UTC(2026, 10, 30, h)).toISOString();

async function dead(
  name: string,
  eventType: string,
  data: Record<string, unknown>,
  opts: { error?: string; createdHour?: number; status?: 'dead' | 'processed' } = {},
) {
  const payload = { event: eventType, delivery_id: name, timestamp: t(0), data };
  const [e] = await db.db
    .insert(events)
    .values({
      source: 'skylightchat',
      provider: 'skylight',
      deliveryId: name,
      eventType,
      payload,
      status: opts.status ?? 'dead',
      lastError: opts.error ?? 'timeout',
      createdAt: new Date(t(opts.createdHour ?? 1)),
      deadAt: new Date(t(8)),
    })
    .returning({ id: events.id });
  id[name] = e!.id;
}

async function stored(entity: string, objectId: number, hour: number, deleted = false) {
  await db.db.insert(entityVersions).values({
    source: 'skylightchat',
    entity,
    id: objectId,
    versionAt: new Date(t(hour)),
    deleted,
    eventId: 1,
  });
}

before(async () => {
  db = await openTestDb();
  // Stored states: contact 1 at 3h; contact 2 at 2h; contact 3 deleted at 5h; contact 4 deleted at
  // 5h; contact 6 deleted at 4h; booking 7 at 2h.
  await stored('contact', 1, 3);
  await stored('contact', 2, 2);
  await stored('contact', 3, 5, true);
  await stored('contact', 4, 5, true);
  await stored('contact', 6, 4, true);
  await stored('booking', 7, 2);
  await dead(
    'A-older-update',
    'contact.updated',
    { contact: { id: 1, updated_at: t(2) } },
    { createdHour: 2 },
  );
  await dead(
    'B-newer-update',
    'contact.updated',
    { contact: { id: 2, updated_at: t(3) } },
    { error: 'HTTP 503' },
  );
  await dead('C-update-of-deleted', 'contact.updated', { contact: { id: 3, updated_at: t(2) } });
  await dead('D-update-after-delete', 'contact.updated', { contact: { id: 4, updated_at: t(6) } });
  await dead(
    'E-unknown-object',
    'contact.updated',
    { contact: { id: 5, updated_at: t(2) } },
    { createdHour: 7 },
  );
  await dead('F-message', 'message.received', { message: { id: 9, content: 'hi' } }, { error: 'HTTP 503' });
  await dead('G-delete-again', 'contact.deleted', { contact: { id: 6, deleted_at: t(4) } });
  await dead('H-older-booking', 'booking.created', { booking: { id: 7, updated_at: t(1) } });
  await dead('I-unparseable', 'contact.updated', { contact: { name: 'no id' } }, { error: 'ZodError: id' });
  await dead(
    'J-processed',
    'contact.updated',
    { contact: { id: 1, updated_at: t(1) } },
    { status: 'processed' },
  );
});
after(() => db.close());

const statusOf = async (names: string[]) =>
  Object.fromEntries(
    (
      await db.db
        .select({ d: events.deliveryId, s: events.status })
        .from(events)
        .where(
          inArray(
            events.id,
            names.map((n) => id[n]!),
          ),
        )
    ).map((r) => [r.d, r.s]),
  );

test('the dry run counts exactly and changes nothing', async () => {
  const r = await bulkRetry(db.db, {}, { dryRun: true, excludeSuperseded: false }, who);
  assert.deepEqual(r, {
    dry_run: true,
    matched: 9,
    by_event_type: {
      'contact.updated': 6,
      'message.received': 1,
      'contact.deleted': 1,
      'booking.created': 1,
    },
    by_error: { timeout: 6, 'HTTP 503': 2, 'ZodError: id': 1 },
    // A (older than stored), C (older than the deletion), G (the same deletion), H (older booking).
    superseded: 4,
    // C, D and G: their contact's stored state is a deletion.
    missing_objects: 3,
    oldest: t(1),
    newest: t(7),
  });
  assert.equal((await db.db.select().from(events).where(eq(events.status, 'dead'))).length, 9);
  assert.equal((await db.db.select().from(eventHistory)).length, 0);
});

test('the dry run follows the filter', async () => {
  const r = await bulkRetry(
    db.db,
    { event_type: 'contact.updated' },
    { dryRun: true, excludeSuperseded: false },
    who,
  );
  assert.equal(r.dry_run, true);
  assert.deepEqual([r.matched, r.superseded, r.missing_objects], [6, 2, 2]);
  const one = await bulkRetry(db.db, { error: '503' }, { dryRun: true, excludeSuperseded: false }, who);
  assert.equal(one.dry_run, true);
  assert.deepEqual([one.matched, one.superseded, one.oldest], [2, 0, t(1)]);
});

test('a retry excluding the superseded re-queues the rest only', async () => {
  const r = await bulkRetry(db.db, {}, { dryRun: false, excludeSuperseded: true }, who);
  assert.deepEqual(r, { dry_run: false, matched: 5, excluded: 4 });
  assert.deepEqual(
    await statusOf(['A-older-update', 'C-update-of-deleted', 'G-delete-again', 'H-older-booking']),
    {
      'A-older-update': 'dead',
      'C-update-of-deleted': 'dead',
      'G-delete-again': 'dead',
      'H-older-booking': 'dead',
    },
  );
  const requeued = [
    'B-newer-update',
    'D-update-after-delete',
    'E-unknown-object',
    'F-message',
    'I-unparseable',
  ];
  assert.deepEqual(Object.values(await statusOf(requeued)), Array(5).fill('pending'));
  const history = await db.db.select().from(eventHistory);
  assert.deepEqual(history.map((h) => h.actor).sort(), Array(5).fill(who.actor));
  // What is left is exactly the superseded set.
  const again = await bulkRetry(db.db, {}, { dryRun: true, excludeSuperseded: false }, who);
  assert.equal(again.dry_run, true);
  assert.deepEqual([again.matched, again.superseded], [4, 4]);
});

test('the preview compares versions to the microsecond, as the handler does', async () => {
  const at = (us: string) => `2026-11-30T09:00:00.000${us}Z`;
  await db.db.insert(entityVersions).values({
    source: 'skylightchat',
    entity: 'contact',
    id: 77,
    versionAt: sql`${at('900')}::timestamptz` as unknown as Date,
    deleted: false,
    eventId: 1,
  });
  await dead('K-micro-older', 'contact.updated', { contact: { id: 77, updated_at: at('100') } });
  await dead('K-micro-newer', 'contact.updated', { contact: { id: 77, updated_at: at('950') } });
  const r = await bulkRetry(db.db, { q: 'K-micro' }, { dryRun: true, excludeSuperseded: false }, who);
  assert.deepEqual([r.matched, r.dry_run && r.superseded], [2, 1]);
});

test('a dead letter is shown with its payload numbers exact (payload_text), however large', async () => {
  const { getEvent } = await import('@/db/queries/dlq');
  const { prettyJson } = await import('@/lib/format');
  const [e] = await db.db
    .insert(events)
    .values({
      source: 'skylightchat',
      provider: 'skylight',
      deliveryId: 'L-big-number',
      eventType: 'contact.updated',
      payload: sql`'{"data":{"contact":{"id":9007199254740993,"amount":1e400}}}'::jsonb`,
      status: 'dead',
      deadAt: new Date(),
    })
    .returning({ id: events.id });
  const got = await getEvent(db.db, e!.id);
  const shown = prettyJson(got!.payload_text);
  assert.match(shown, /"id": 9007199254740993\b/);
  assert.match(shown, /"amount": 1e\+?400|"amount": 1(0{400})/);
});
