import type { Db } from '@/db/client';
import type { Actor } from '@/db/queries/audit';
import { getDelivery } from '@/db/queries/deliveries';
import { enqueueReceipt } from '@/db/queries/enqueue';
import { AppError } from '@/lib/errors';
import { parseEnvelope } from '@/lib/providers/skylight/envelope';
import { KNOWN_EVENTS } from '@/lib/providers/skylight/protocol';

const KNOWN = new Set<string>(KNOWN_EVENTS);

/**
 * Processes a fingerprint duplicate by hand. The content fingerprint catches a retry that arrived
 * with a new delivery_id, but it also matches a genuinely new event whose data equals an earlier
 * one (a contact open → closed → open within the window): the operator who knows decides. The body
 * was signed and verified when it arrived; it is not checked again.
 */
export async function enqueueFingerprintDuplicate(db: Db, receiptId: number, who: Actor) {
  const d = await getDelivery(db, receiptId);
  if (!d) throw new AppError('not_found', `Delivery ${receiptId} not found`);
  if (d.outcome !== 'duplicate' || d.reason !== 'fingerprint') {
    throw new AppError(
      'conflict',
      `Only a duplicate by content fingerprint can be queued by hand; this delivery is ${d.outcome}${d.reason ? ` (${d.reason})` : ''}`,
    );
  }
  const parsed = d.body === null ? null : parseEnvelope(new TextEncoder().encode(d.body), d.delivery_id);
  if (!parsed?.ok || !KNOWN.has(parsed.envelope.event)) {
    throw new AppError('conflict', 'The stored body is not a delivery of a known event type');
  }
  const env = parsed.envelope;
  const r = await enqueueReceipt(
    db,
    receiptId,
    {
      deliveryId: env.deliveryId,
      eventType: env.event,
      fingerprint: env.fingerprint,
      payloadText: env.payloadText,
      providerTs: env.timestamp ?? d.provider_ts,
    },
    who,
  );
  return { event_id: r.eventId, created: r.created };
}
