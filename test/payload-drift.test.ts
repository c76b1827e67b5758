import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { and, asc, eq, sql } from 'drizzle-orm';
import { events, payloadDrift, payloadShapes, payloadShapeTypes } from '@/db/schema';
import { DRIFT_RULES } from '@/lib/payload/drift';
import { learnPayloadShapes, payloadDriftSince } from '@/lib/payload/learner';
import { shapeOf } from '@/lib/payload/shape';
import { openTestDb, type TestDb } from './helpers/db';

// Payload drift (issue 17): the learner reads queued events in the background and records each new
// field, type change and missing field once, naming the first delivery that showed it.

let db: TestDb;
before(async () => {
  db = await openTestDb();
});
after(async () => {
  await db.close();
});

let n = 0;
async function queue(
  eventType: string,
  data: Record<string, unknown>,
  source = 'skylightchat',
): Promise<number> {
  n++;
  const [row] = await db.db
    .insert(events)
    .values({
      source,
      provider: 'skylight',
      deliveryId: `drift-${n}`,
      eventType,
      payload: { event: eventType, delivery_id: `drift-${n}`, timestamp: '2026-11-30T12:00:00Z', data },
    })
    .returning({ id: events.id });
  return row!.id;
}
const learn = () => learnPayloadShapes(db.db, { settleMs: 0 });
const drift = (eventType: string) =>
  db.db
    .select({
      path: payloadDrift.path,
      kind: payloadDrift.kind,
      detail: payloadDrift.detail,
      eventId: payloadDrift.eventId,
    })
    .from(payloadDrift)
    .where(eq(payloadDrift.eventType, eventType))
    .orderBy(asc(payloadDrift.id));

const contact = (i: number, extra: Record<string, unknown> = {}) => ({
  contact: {
    id: 4000 + i,
    email: `c${i}@example.test`,
    name: `C ${i}`,
    ...(i % 2 ? { phone: '+100' } : {}),
    ...extra,
  },
});

test('shapes are field paths with JSON types (integers are numbers; array items as [])', () => {
  assert.deepEqual(
    Object.fromEntries(
      shapeOf({ a: 1, b: 2.5, c: null, d: { e: 'x' }, tags: ['x', 3], list: [{ k: true }] }),
    ),
    {
      a: 'number',
      b: 'number',
      c: 'null',
      d: 'object',
      'd.e': 'string',
      tags: 'array',
      'tags[]': 'number|string',
      list: 'array',
      'list[]': 'object',
      'list[].k': 'boolean',
    },
  );
});

test('a new field and a type change are each detected once; an optional field is not "missing"', async () => {
  const type = 'contact.updated';
  for (let i = 0; i < DRIFT_RULES.BASELINE; i++) await queue(type, contact(i));
  assert.equal((await learn()).learned, DRIFT_RULES.BASELINE);
  assert.deepEqual(await drift(type), [], 'nothing is flagged while the baseline is learned');

  // A new field (an object with a child: one finding, the object), then seen again.
  const firstTier = await queue(type, contact(100, { tier: { level: 'gold' } }));
  await queue(type, contact(101, { tier: { level: 'gold' } }));
  // A type change: the id arrives as a string, twice, in two runs of the learner.
  const firstStringId = await queue(type, { contact: { ...contact(102).contact, id: '4102' } });
  await learn();
  await queue(type, { contact: { ...contact(103).contact, id: '4103' } });
  await learn();

  assert.deepEqual(await drift(type), [
    { path: 'data.contact.tier', kind: 'new_field', detail: '', eventId: firstTier },
    { path: 'data.contact.id', kind: 'type_change', detail: 'number → string', eventId: firstStringId },
  ]);
  const [idPath] = await db.db
    .select()
    .from(payloadShapes)
    .where(and(eq(payloadShapes.eventType, type), eq(payloadShapes.path, 'data.contact.id')));
  assert.equal(idPath!.types, 'number,string');
  assert.equal(idPath!.seen, DRIFT_RULES.BASELINE + 4);
  const [tier] = await db.db
    .select()
    .from(payloadShapes)
    .where(and(eq(payloadShapes.eventType, type), eq(payloadShapes.path, 'data.contact.tier.level')));
  assert.equal(tier!.firstEventId, firstTier, 'a new object’s children are learned too');

  // `phone` comes in half the deliveries: absent MISSING_RUN times in a row is not drift. `email`
  // came in every one: absent that many times in a row is, named by the first delivery without it.
  const noEmail = ({ contact: { email: _e, phone: _p, ...rest } }: ReturnType<typeof contact>) => ({
    contact: rest,
  });
  const firstWithout = await queue(type, noEmail(contact(200)));
  for (let i = 1; i < DRIFT_RULES.MISSING_RUN - 1; i++) await queue(type, noEmail(contact(200 + i)));
  await learn();
  assert.equal((await drift(type)).length, 2, 'one short of the run: not yet');
  await queue(type, noEmail(contact(299)));
  await queue(type, noEmail(contact(300)));
  await learn();
  const found = await drift(type);
  assert.deepEqual(found.slice(2), [
    { path: 'data.contact.email', kind: 'missing_field', detail: '', eventId: firstWithout },
  ]);
  const [state] = await db.db.select().from(payloadShapeTypes).where(eq(payloadShapeTypes.eventType, type));
  assert.equal(state!.samples, DRIFT_RULES.BASELINE + 4 + DRIFT_RULES.MISSING_RUN + 1);

  // Nothing is learned twice: another run with no new events changes nothing.
  assert.deepEqual(await learn(), { learned: 0, drift: 0, busy: false });

  // The alert rule's input.
  const since = await payloadDriftSince(db.db, new Date(Date.now() - 60_000));
  assert.deepEqual(since.byKind, { new_field: 1, missing_field: 1, type_change: 1 });
  assert.equal(since.total, 3);
  assert.equal(since.latest.length, 3);
  assert.equal((await payloadDriftSince(db.db, new Date(Date.now() + 60_000))).total, 0);
});

test('shapes are kept per source and event type, and bounded in paths', async () => {
  const type = 'booking.created';
  const wide = Object.fromEntries(Array.from({ length: DRIFT_RULES.MAX_PATHS + 50 }, (_, i) => [`f${i}`, i]));
  await queue(type, wide, 'other-source');
  await queue(type, { booking: { id: 1 } });
  await learn();
  const rows = await db.db.select().from(payloadShapeTypes).where(eq(payloadShapeTypes.eventType, type));
  assert.deepEqual(rows.map((r) => [r.source, r.samples, r.capped]).sort(), [
    ['other-source', 1, true],
    ['skylightchat', 1, false],
  ]);
  const paths = await db.db
    .select({ path: payloadShapes.path })
    .from(payloadShapes)
    .where(and(eq(payloadShapes.eventType, type), eq(payloadShapes.source, 'other-source')));
  assert.equal(paths.length, DRIFT_RULES.MAX_PATHS);
});

test('a run reads as many payloads as fit its byte budget (at least one), and the next runs go on from there', async () => {
  while ((await learn()).learned > 0);
  const ids: number[] = [];
  for (let i = 0; i < 4; i++) {
    ids.push(await queue('big.event', { blob: randomBytes(60_000).toString('base64'), i }));
  }
  const [one] = await db.db
    .select({ bytes: sql<number>`pg_column_size(${events.payload})` })
    .from(events)
    .where(eq(events.id, ids[0]!));
  const maxBytes = Math.floor(Number(one!.bytes) * 2.5);
  const runs = [];
  for (let i = 0; i < 4; i++) runs.push((await learnPayloadShapes(db.db, { settleMs: 0, maxBytes })).learned);
  assert.deepEqual(runs, [2, 2, 0, 0]);
  // A payload larger than the budget still gets its run, alone.
  await queue('big.event', { blob: randomBytes(60_000).toString('base64'), i: 4 });
  const alone = await learnPayloadShapes(db.db, { settleMs: 0, maxBytes: 10 });
  assert.equal(alone.learned, 1);
});
