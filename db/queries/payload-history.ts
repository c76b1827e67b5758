import { and, asc, desc, eq, gte, inArray, isNotNull, lt, or, sql } from 'drizzle-orm';
import type { Queryable } from '../client';
import { events, receipts } from '../schema';

/** What a payload comparison needs of a receipt: its own body and its event's stored payload. */
export async function receiptForDiff(db: Queryable, id: number) {
  const [row] = await db
    .select({
      id: receipts.id,
      source: receipts.source,
      provider: receipts.provider,
      deliveryId: receipts.deliveryId,
      eventType: receipts.eventType,
      body: receipts.body,
      receivedAt: receipts.receivedAt,
      eventId: receipts.eventId,
      // As text: the driver's JSON.parse would round a number past 2^53 before it could be compared.
      eventPayloadText: sql<string | null>`${events.payload}::text`,
      eventCreatedAt: events.createdAt,
    })
    .from(receipts)
    .leftJoin(events, eq(events.id, receipts.eventId))
    .where(eq(receipts.id, id));
  return row ?? null;
}

/**
 * The first earlier receipt of the same delivery: the same event (a duplicate, a fingerprint match)
 * or the same delivery id on the same source (a provider retry or a replay). Null for the first one.
 */
export async function originalReceiptOf(
  db: Queryable,
  r: { id: number; source: string; deliveryId: string | null; eventId: number | null },
) {
  const same = or(
    r.eventId === null ? undefined : eq(receipts.eventId, r.eventId),
    r.deliveryId === null
      ? undefined
      : and(eq(receipts.source, r.source), eq(receipts.deliveryId, r.deliveryId)),
  );
  if (!same) return null;
  const [row] = await db
    .select({
      id: receipts.id,
      deliveryId: receipts.deliveryId,
      receivedAt: receipts.receivedAt,
      body: receipts.body,
    })
    .from(receipts)
    .where(and(lt(receipts.id, r.id), isNotNull(receipts.body), same))
    .orderBy(asc(receipts.id))
    .limit(1);
  return row ?? null;
}

/**
 * The latest earlier event about the same object (`data.<entity>.id`, or `data.id` when flat), among
 * the given event types, within a lookback window so an object last seen long ago costs a bounded scan.
 */
export async function previousEventOfObject(
  db: Queryable,
  q: {
    source: string;
    eventTypes: string[];
    beforeEventId: number;
    since: Date;
    entity: string;
    objectId: string;
  },
) {
  const objectId = sql`coalesce(${events.payload} #>> array['data', ${q.entity}, 'id'], ${events.payload} #>> '{data,id}')`;
  const [row] = await db
    .select({
      id: events.id,
      deliveryId: events.deliveryId,
      createdAt: events.createdAt,
      payloadText: sql<string>`${events.payload}::text`,
      receiptId: sql<
        number | null
      >`(select min(r.id) from receipts r where r.event_id = ${events.id})`.mapWith((v) =>
        v === null ? null : Number(v),
      ),
    })
    .from(events)
    .where(
      and(
        eq(events.source, q.source),
        inArray(events.eventType, q.eventTypes),
        lt(events.id, q.beforeEventId),
        gte(events.createdAt, q.since),
        sql`${objectId} = ${q.objectId}`,
      ),
    )
    .orderBy(desc(events.id))
    .limit(1);
  return row ?? null;
}
