import { sql } from 'drizzle-orm';
import { type Queryable, rowsOf } from '../client';
import { type Actor, insertAudit } from './audit';

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
 * Queues a receipt's delivery as an event of its own, by an operator's decision, and points the
 * receipt at it; the audit row commits with it. Dedupe still holds: an event with this delivery_id
 * (on this source) already queued (enqueued twice, or by two operators at once) is returned, not created again.
 */
export async function enqueueReceipt(
  db: Queryable,
  receiptId: number,
  event: EnqueueEvent,
  who: Actor,
): Promise<{ eventId: number; created: boolean }> {
  return db.transaction(async (tx) => {
    const inserted = rowsOf<{ id: number | string }>(
      await tx.execute(sql`
        insert into events (source, provider, delivery_id, event_type, fingerprint, payload, provider_ts)
        values (${event.source}, ${event.provider}, ${event.deliveryId}, ${event.eventType}, ${event.fingerprint},
                ${event.payloadText}::jsonb, ${event.providerTs?.toISOString() ?? null}::timestamptz)
        on conflict (source, delivery_id) do nothing
        returning id`),
    );
    const created = inserted.length > 0;
    const [row] = created
      ? inserted
      : rowsOf<{ id: number | string }>(
          await tx.execute(
            sql`select id from events where source = ${event.source} and delivery_id = ${event.deliveryId}`,
          ),
        );
    const eventId = Number(row!.id);
    await tx.execute(sql`update receipts set event_id = ${eventId} where id = ${receiptId}`);
    await insertAudit(tx, who, 'delivery_enqueue', String(receiptId), {
      delivery_id: event.deliveryId,
      event_id: eventId,
      created,
    });
    return { eventId, created };
  });
}
