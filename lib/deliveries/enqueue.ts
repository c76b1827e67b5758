import type { Db } from '@/db/client';
import type { Actor } from '@/db/queries/audit';
import { getDelivery } from '@/db/queries/deliveries';
import { enqueueReceipt } from '@/db/queries/enqueue';
import { AppError } from '@/lib/errors';
import { isProviderName, providerOf } from '@/lib/providers/registry';

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
  const provider = d.provider !== null && isProviderName(d.provider) ? providerOf(d.provider) : null;
  // The stored headers stand in for the request's: the envelope's fallbacks read them.
  const header = (name: string) => d.headers[name] ?? null;
  const parsed =
    provider && d.body !== null ? provider.parse(new TextEncoder().encode(d.body), header) : null;
  if (!provider || !parsed?.ok || !provider.knownEvents.includes(parsed.envelope.eventType)) {
    throw new AppError('conflict', 'The stored body is not a delivery of a known event type');
  }
  const env = parsed.envelope;
  const r = await enqueueReceipt(
    db,
    receiptId,
    {
      source: d.source,
      provider: provider.name,
      deliveryId: env.dedupeId,
      eventType: env.eventType,
      fingerprint: env.fingerprint,
      payloadText: env.payloadText,
      providerTs: env.providerTs ?? d.provider_ts,
    },
    who,
  );
  return { event_id: r.eventId, created: r.created };
}
