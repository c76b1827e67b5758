import { and, asc, gt, inArray, sql } from 'drizzle-orm';
import { type Queryable, rowsOf } from '../client';
import { errorMessage } from '../errors';
import { receipts } from '../schema';
import { type Actor, insertAudit } from './audit';
import { type DeliveryFilters, deliveriesWhere } from './deliveries';
import { fingerprintTakeover } from './ingest';

export type EnqueueEvent = {
  source: string;
  provider: string;
  deliveryId: string;
  eventType: string;
  fingerprint: string | null;
  payloadText: string;
  providerTs: Date | null;
};

/**
 * Inserts the event unless one with this delivery_id (on this source) exists, and points the receipt
 * at it. Dedupe still holds: enqueued twice, or by two operators at once, the existing event is
 * returned, not created again. With `fingerprintHours`, the content fingerprint is claimed as the
 * receiver claims it: two ignored receipts of one event (the provider's resend under a new id) make
 * one event, and a resend after this one is a duplicate of it.
 */
async function insertEnqueued(
  tx: Queryable,
  receiptId: number,
  event: EnqueueEvent,
  fingerprintHours: number | null,
  /** The receipt's day: its update then reads one day's table, not every day's. */
  receivedAt?: Date,
): Promise<{ eventId: number; created: boolean }> {
  const existing = async () =>
    rowsOf<{ id: number | string }>(
      await tx.execute(
        sql`select id from events where source = ${event.source} and delivery_id = ${event.deliveryId}`,
      ),
    )[0];
  let eventId: number;
  let created = false;
  const known = await existing();
  if (known) eventId = Number(known.id);
  else {
    const [claim] = rowsOf<{ new_id: string | number; owner: string | number | null }>(
      await tx.execute(
        fingerprintHours === null || event.fingerprint === null
          ? sql`select nextval('events_id_seq') as new_id, null as owner`
          : sql`
            with id as (select nextval('events_id_seq') as new_id),
            fp as (
              insert into fingerprints as f (source, fingerprint, event_id)
              select ${event.source}, ${event.fingerprint}, new_id from id
              ${fingerprintTakeover(sql`make_interval(hours => ${fingerprintHours}::int)`)}
              returning f.event_id)
            select (select new_id from id) as new_id, (select event_id from fp) as owner`,
      ),
    );
    const newId = Number(claim!.new_id);
    if (claim!.owner !== null && Number(claim!.owner) !== newId) eventId = Number(claim!.owner);
    else {
      const inserted = rowsOf<{ id: number | string }>(
        await tx.execute(sql`
          insert into events (id, source, provider, delivery_id, event_type, fingerprint, payload, provider_ts)
          overriding system value
          values (${newId}, ${event.source}, ${event.provider}, ${event.deliveryId}, ${event.eventType},
                  ${event.fingerprint}, ${event.payloadText}::jsonb,
                  ${event.providerTs?.toISOString() ?? null}::timestamptz)
          on conflict (source, delivery_id) do nothing
          returning id`),
      );
      created = inserted.length > 0;
      if (created) eventId = newId;
      else {
        // Another operator queued this delivery meanwhile: its event owns the content too.
        eventId = Number((await existing())!.id);
        await tx.execute(sql`update fingerprints set event_id = ${eventId} where event_id = ${newId}`);
      }
    }
  }
  // A range, not equality: the Date has milliseconds, the column microseconds.
  const at = receivedAt?.toISOString();
  const day = at
    ? sql` and received_at >= ${at}::timestamptz and received_at < ${at}::timestamptz + interval '1 millisecond'`
    : sql``;
  await tx.execute(sql`update receipts set event_id = ${eventId} where id = ${receiptId}${day}`);
  return { eventId, created };
}

/** Queues a receipt's delivery as an event by an operator's decision; the audit row commits with it. */
export async function enqueueReceipt(
  db: Queryable,
  receiptId: number,
  event: EnqueueEvent,
  who: Actor,
  /** Null: no fingerprint dedupe (the operator's override for a duplicate by content). */
  fingerprintHours: number | null,
): Promise<{ eventId: number; created: boolean }> {
  return db.transaction(async (tx) => {
    const r = await insertEnqueued(tx, receiptId, event, fingerprintHours);
    await insertAudit(tx, who, 'delivery_enqueue', String(receiptId), {
      delivery_id: event.deliveryId,
      event_id: r.eventId,
      created: r.created,
    });
    return r;
  });
}

/** What a receipt kept of its request: enough to parse it again through its provider. */
export type StoredReceipt = {
  id: number;
  source: string;
  provider: string | null;
  outcome: string;
  reason: string | null;
  event_type: string | null;
  event_id: number | null;
  received_at: Date;
  provider_ts: Date | null;
  headers: Record<string, string>;
  body: string | null;
};

/** The outcomes a bulk enqueue takes: a signed delivery the app did not process. */
export const ENQUEUE_OUTCOMES = ['ignored', 'malformed'] as const;

/**
 * Every ignored or malformed receipt the list's filter matches, oldest first (events are queued in
 * the order they arrived), a page at a time.
 */
export async function* iterateEnqueueCandidates(db: Queryable, f: DeliveryFilters, pageSize = 500) {
  let after = 0;
  for (;;) {
    const rows = (await db
      .select({
        id: receipts.id,
        source: receipts.source,
        provider: receipts.provider,
        outcome: receipts.outcome,
        reason: receipts.reason,
        event_type: receipts.eventType,
        event_id: receipts.eventId,
        received_at: receipts.receivedAt,
        provider_ts: receipts.providerTs,
        headers: receipts.headers,
        body: receipts.body,
      })
      .from(receipts)
      .where(
        and(deliveriesWhere(f), inArray(receipts.outcome, [...ENQUEUE_OUTCOMES]), gt(receipts.id, after)),
      )
      .orderBy(asc(receipts.id))
      .limit(pageSize)) as StoredReceipt[];
    yield* rows;
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1]!.id;
  }
}

/** Receipts written per transaction by a bulk enqueue. */
const ENQUEUE_CHUNK = 200;

/**
 * Queues many receipts, ENQUEUE_CHUNK to a transaction, with one audit row at the end (the filter
 * and the counts). Not one transaction for all: on PGlite a transaction holds the one connection, so
 * 100,000 receipts in one held every delivery's write until it ended (each answered 503). A failure
 * part-way leaves the chunks before it queued (a second run skips them: they have their event) and
 * is audited with what was done. `items` is read between the chunks, outside any transaction.
 */
export async function enqueueReceipts(
  db: Queryable,
  items: AsyncIterable<{ receiptId: number; receivedAt: Date; event: EnqueueEvent } | null>,
  who: Actor,
  /** Read after the items: the caller's tallies are complete by then. */
  detail: () => Record<string, unknown>,
  fingerprintHours: number,
): Promise<{ created: number; existing: number }> {
  let created = 0;
  let existing = 0;
  let chunk: Array<{ receiptId: number; receivedAt: Date; event: EnqueueEvent }> = [];
  const flush = async () => {
    const todo = chunk;
    chunk = [];
    if (todo.length === 0) return;
    const counts = await db.transaction(async (tx) => {
      let made = 0;
      for (const item of todo) {
        if ((await insertEnqueued(tx, item.receiptId, item.event, fingerprintHours, item.receivedAt)).created)
          made++;
      }
      return made;
    });
    created += counts;
    existing += todo.length - counts;
  };
  try {
    for await (const item of items) {
      if (!item) continue;
      chunk.push(item);
      if (chunk.length >= ENQUEUE_CHUNK) await flush();
    }
    await flush();
  } catch (err) {
    await insertAudit(
      db,
      who,
      'delivery_bulk_enqueue',
      null,
      { ...detail(), created, existing, stopped: errorMessage(err) },
      { result: 'refused', code: 'unavailable' },
    ).catch(() => {});
    throw err;
  }
  await insertAudit(db, who, 'delivery_bulk_enqueue', null, { ...detail(), created, existing });
  return { created, existing };
}
