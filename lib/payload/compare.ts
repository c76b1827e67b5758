import type { Queryable } from '@/db/client';
import { originalReceiptOf, previousEventOfObject, receiptForDiff } from '@/db/queries/payload-history';
import { parseJsonLossless } from '@/lib/json';
import { isProviderName, providerOf } from '@/lib/providers/registry';
import { diffPayloads, type ObjectRef, objectRefOf, type PayloadChange } from './diff';

/** How far back "the previous delivery of the same object" is looked for. */
export const PREVIOUS_LOOKBACK_MS = 30 * 86_400_000;

export type Comparison = {
  receipt_id: number | null;
  event_id: number | null;
  delivery_id: string | null;
  at: Date;
  changes: PayloadChange[];
  truncated: number;
};
export type DeliveryComparisons = {
  object: ObjectRef | null;
  /** Against the latest earlier event about the same object. */
  previous: Comparison | null;
  /** Against the first receipt of the same delivery, when this one is a resend or a replay. */
  original: Comparison | null;
};

/** Lossless: a replay differing only in a number past 2^53 must not compare as the same payload. */
function parseBody(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return parseJsonLossless(text);
  } catch {
    return undefined;
  }
}

/** The payload diffs a delivery's detail page shows; null when the receipt does not exist. */
export async function deliveryComparisons(
  db: Queryable,
  receiptId: number,
): Promise<DeliveryComparisons | null> {
  const r = await receiptForDiff(db, receiptId);
  if (!r) return null;
  const body = parseBody(r.body);
  // The event's stored payload is the normalised envelope the handlers saw; a receipt without an
  // event (ignored, malformed) is compared by its own body.
  const current = parseBody(r.eventPayloadText) ?? body;
  const object = r.eventType && current !== undefined ? objectRefOf(r.eventType, current) : null;

  let previous: Comparison | null = null;
  if (object && r.eventType) {
    const sameEntity =
      r.provider && isProviderName(r.provider)
        ? providerOf(r.provider).knownEvents.filter((e) => e.startsWith(`${object.entity}.`))
        : [];
    const prev = await previousEventOfObject(db, {
      source: r.source,
      eventTypes: sameEntity.length > 0 ? sameEntity : [r.eventType],
      beforeEventId: r.eventId ?? Number.MAX_SAFE_INTEGER,
      since: new Date((r.eventCreatedAt ?? r.receivedAt).getTime() - PREVIOUS_LOOKBACK_MS),
      entity: object.entity,
      objectId: object.id,
    });
    if (prev) {
      previous = {
        receipt_id: prev.receiptId,
        event_id: prev.id,
        delivery_id: prev.deliveryId,
        at: prev.createdAt,
        ...diffPayloads(parseBody(prev.payloadText), current),
      };
    }
  }

  let original: Comparison | null = null;
  const first = await originalReceiptOf(db, r);
  const firstBody = first ? parseBody(first.body) : undefined;
  if (first && firstBody !== undefined && body !== undefined) {
    original = {
      receipt_id: first.id,
      event_id: r.eventId,
      delivery_id: first.deliveryId,
      at: first.receivedAt,
      ...diffPayloads(firstBody, body),
    };
  }
  return { object, previous, original };
}
