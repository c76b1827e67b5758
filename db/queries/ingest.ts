import { inArray, sql } from 'drizzle-orm';
import type { Queryable } from '../client';
import { events, fingerprints, type ReceiptInsert, receipts } from '../schema';

/** Fingerprints older than this may be reused by a new event (CONTRACT.md: 24 hours). */
export const FINGERPRINT_WINDOW = '24 hours';

export type IngestItem = {
  receipt: Omit<ReceiptInsert, 'httpStatus' | 'eventId'> & { outcome: 'accepted' | 'malformed' | 'ignored' };
  event?: {
    deliveryId: string;
    eventType: string;
    fingerprint: string;
    payload: unknown;
    providerTs: Date | null;
  };
};

export type IngestResult = {
  outcome: 'accepted' | 'duplicate' | 'malformed' | 'ignored';
  reason: string | null;
  receiptId: number;
  eventId: number | null;
};

/**
 * Writes a batch of signed requests in the caller's transaction: new events into the inbox (deduped
 * on delivery_id, then on the content fingerprint) and one receipt per request. Returns one result
 * per item, in order. Rows are inserted in sorted key order so concurrent batches cannot deadlock.
 */
export async function ingestBatch(tx: Queryable, items: IngestItem[]): Promise<IngestResult[]> {
  const results: Array<Omit<IngestResult, 'receiptId'>> = items.map((it) => ({
    outcome: it.receipt.outcome,
    reason: it.receipt.reason ?? null,
    eventId: null,
  }));

  // Duplicates inside the batch: the first occurrence wins, later ones point at it.
  const firstByDelivery = new Map<string, number>();
  const firstByFingerprint = new Map<string, number>();
  const candidates: number[] = [];
  items.forEach((it, i) => {
    if (!it.event) return;
    const byId = firstByDelivery.get(it.event.deliveryId);
    const byFp = firstByFingerprint.get(it.event.fingerprint);
    if (byId !== undefined) results[i] = { outcome: 'duplicate', reason: 'delivery_id', eventId: -byId - 1 };
    else if (byFp !== undefined)
      results[i] = { outcome: 'duplicate', reason: 'fingerprint', eventId: -byFp - 1 };
    else {
      firstByDelivery.set(it.event.deliveryId, i);
      firstByFingerprint.set(it.event.fingerprint, i);
      candidates.push(i);
    }
  });

  if (candidates.length > 0) {
    candidates.sort((a, b) => (items[a]!.event!.deliveryId < items[b]!.event!.deliveryId ? -1 : 1));
    const inserted = await tx
      .insert(events)
      .values(candidates.map((i) => items[i]!.event!))
      .onConflictDoNothing({ target: events.deliveryId })
      .returning({ id: events.id, deliveryId: events.deliveryId });
    const newIds = new Map(inserted.map((r) => [r.deliveryId, r.id]));

    const seen = candidates.filter((i) => !newIds.has(items[i]!.event!.deliveryId));
    if (seen.length > 0) {
      const existing = await tx
        .select({ id: events.id, deliveryId: events.deliveryId })
        .from(events)
        .where(
          inArray(
            events.deliveryId,
            seen.map((i) => items[i]!.event!.deliveryId),
          ),
        );
      const byDelivery = new Map(existing.map((r) => [r.deliveryId, r.id]));
      for (const i of seen) {
        results[i] = {
          outcome: 'duplicate',
          reason: 'delivery_id',
          eventId: byDelivery.get(items[i]!.event!.deliveryId) ?? null,
        };
      }
    }

    const fresh = candidates
      .filter((i) => newIds.has(items[i]!.event!.deliveryId))
      .sort((a, b) => (items[a]!.event!.fingerprint < items[b]!.event!.fingerprint ? -1 : 1));
    if (fresh.length > 0) {
      const claimed = await tx
        .insert(fingerprints)
        .values(
          fresh.map((i) => ({
            fingerprint: items[i]!.event!.fingerprint,
            eventId: newIds.get(items[i]!.event!.deliveryId)!,
          })),
        )
        .onConflictDoUpdate({
          target: fingerprints.fingerprint,
          set: { eventId: sql`excluded.event_id`, createdAt: sql`now()` },
          setWhere: sql`${fingerprints.createdAt} < now() - ${sql.raw(`interval '${FINGERPRINT_WINDOW}'`)}`,
        })
        .returning({ fingerprint: fingerprints.fingerprint });
      const claimedSet = new Set(claimed.map((r) => r.fingerprint));
      const lost = fresh.filter((i) => !claimedSet.has(items[i]!.event!.fingerprint));
      if (lost.length > 0) {
        // Same content seen within the window under another delivery_id: a retry with a new id.
        await tx.delete(events).where(
          inArray(
            events.id,
            lost.map((i) => newIds.get(items[i]!.event!.deliveryId)!),
          ),
        );
        const owners = await tx
          .select({ fingerprint: fingerprints.fingerprint, eventId: fingerprints.eventId })
          .from(fingerprints)
          .where(
            inArray(
              fingerprints.fingerprint,
              lost.map((i) => items[i]!.event!.fingerprint),
            ),
          );
        const ownerOf = new Map(owners.map((r) => [r.fingerprint, r.eventId]));
        for (const i of lost) {
          results[i] = {
            outcome: 'duplicate',
            reason: 'fingerprint',
            eventId: ownerOf.get(items[i]!.event!.fingerprint) ?? null,
          };
        }
      }
      for (const i of fresh) {
        if (!lost.includes(i)) {
          results[i] = {
            outcome: 'accepted',
            reason: null,
            eventId: newIds.get(items[i]!.event!.deliveryId)!,
          };
        }
      }
    }
  }

  // In-batch duplicates point at their first occurrence's final event.
  results.forEach((r, i) => {
    if (r.eventId !== null && r.eventId < 0) results[i] = { ...r, eventId: results[-r.eventId - 1]!.eventId };
  });

  const rows = await tx
    .insert(receipts)
    .values(
      items.map((it, i) => ({
        ...it.receipt,
        outcome: results[i]!.outcome,
        reason: results[i]!.reason,
        httpStatus: 200,
        eventId: results[i]!.eventId,
      })),
    )
    .returning({ id: receipts.id });
  return results.map((r, i) => ({ ...r, receiptId: rows[i]!.id }));
}

/** Background writes of receipts that need no durability before the answer (rejections, 503s). */
export async function insertReceipts(db: Queryable, rows: ReceiptInsert[]): Promise<void> {
  if (rows.length > 0) await db.insert(receipts).values(rows);
}

/** Replaces provisional ack times with the exact ones measured after COMMIT. */
export async function updateAckTimes(db: Queryable, timings: Array<{ id: number; ackMs: number }>) {
  if (timings.length === 0) return;
  const values = sql.join(
    timings.map((t) => sql`(${t.id}::bigint, ${t.ackMs}::real)`),
    sql`, `,
  );
  await db.execute(
    sql`update receipts as r set ack_ms = v.ack_ms from (values ${values}) as v(id, ack_ms) where r.id = v.id`,
  );
}
