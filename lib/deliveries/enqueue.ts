import type { Db } from '@/db/client';
import type { Actor } from '@/db/queries/audit';
import { type DeliveryFilters, getDelivery } from '@/db/queries/deliveries';
import {
  type EnqueueEvent,
  enqueueReceipt,
  enqueueReceipts,
  iterateEnqueueCandidates,
  type StoredReceipt,
} from '@/db/queries/enqueue';
import { env } from '@/lib/env';
import { AppError } from '@/lib/errors';
import { isProviderName, providerOf } from '@/lib/providers/registry';

type Stored = Pick<StoredReceipt, 'source' | 'provider' | 'headers' | 'body'>;

/**
 * Parses a stored body again through its provider's contract, as the receiver would today: after a
 * handler was added (an `ignored` event type) or a parsing bug fixed (`malformed`), it now yields an
 * event. The body was signed and verified when it arrived; the signature is not checked again.
 */
function prepare(d: Stored): { ok: true; event: EnqueueEvent } | { ok: false; why: string } {
  const provider = d.provider !== null && isProviderName(d.provider) ? providerOf(d.provider) : null;
  if (!provider) return { ok: false, why: 'it arrived on an unknown source' };
  if (d.body === null) return { ok: false, why: 'no body was kept' };
  // The stored headers stand in for the request's: the envelope's fallbacks read them.
  const parsed = provider.parse(new TextEncoder().encode(d.body), (name) => d.headers[name] ?? null);
  if (!parsed.ok) return { ok: false, why: `the body is still not a valid delivery (${parsed.reason})` };
  const env = parsed.envelope;
  if (!provider.knownEvents.includes(env.eventType)) {
    return { ok: false, why: `no handler for ${env.eventType} yet` };
  }
  return {
    ok: true,
    event: {
      source: d.source,
      provider: provider.name,
      deliveryId: env.dedupeId,
      eventType: env.eventType,
      fingerprint: env.fingerprint,
      payloadText: env.payloadText,
      providerTs: env.providerTs,
    },
  };
}

const NEVER_AUTHENTICATED =
  'was rejected: its signature was never verified, so it cannot be queued (ask the sender to send it again)';

/**
 * Queues one receipt as an event by hand: an `ignored` or `malformed` one once its cause is fixed,
 * or a fingerprint duplicate the operator knows is a new event (the content fingerprint also matches
 * a genuinely new event whose data equals an earlier one: open → closed → open within the window).
 */
export async function enqueueDelivery(db: Db, receiptId: number, who: Actor) {
  const d = await getDelivery(db, receiptId);
  if (!d) throw new AppError('not_found', `Delivery ${receiptId} not found`);
  if (d.outcome === 'rejected')
    throw new AppError('conflict', `Delivery ${receiptId} ${NEVER_AUTHENTICATED}`);
  const allowed =
    d.outcome === 'ignored' ||
    d.outcome === 'malformed' ||
    (d.outcome === 'duplicate' && d.reason === 'fingerprint');
  if (!allowed) {
    throw new AppError(
      'conflict',
      `Only an ignored or malformed delivery, or a duplicate by content fingerprint, can be queued by hand; this delivery is ${d.outcome}${d.reason ? ` (${d.reason})` : ''}`,
    );
  }
  const p = prepare(d);
  if (!p.ok) throw new AppError('conflict', `Delivery ${receiptId} cannot be queued: ${p.why}`);
  // A duplicate by content queued by hand is the operator saying it is a new event: no dedupe on it.
  const hours = d.outcome === 'duplicate' ? null : env.DEDUPE_FINGERPRINT_HOURS;
  const r = await enqueueReceipt(db, receiptId, p.event, who, hours);
  return { event_id: r.eventId, created: r.created };
}

/** What a bulk enqueue matches and would do; the dry run answers it and changes nothing. */
export type EnqueuePreview = {
  matched: number;
  by_event_type: Record<string, number>;
  by_reason: Record<string, number>;
  /** Would become (or already are) events now. */
  ready: number;
  /** Already queued before (by hand, once): left out, their event is not made again. */
  already_queued: number;
  /** Still cannot be queued, by why (no handler yet, still malformed). */
  failing: Record<string, number>;
  oldest: string | null;
  newest: string | null;
};

const bump = (m: Record<string, number>, k: string) => {
  m[k] = (m[k] ?? 0) + 1;
};

function emptyPreview(): EnqueuePreview {
  return {
    matched: 0,
    by_event_type: {},
    by_reason: {},
    ready: 0,
    already_queued: 0,
    failing: {},
    oldest: null,
    newest: null,
  };
}

/** Tallies one candidate; candidates come oldest first. */
function tally(p: EnqueuePreview, r: StoredReceipt, prepared: ReturnType<typeof prepare>) {
  p.matched++;
  bump(p.by_event_type, r.event_type ?? '(none)');
  bump(p.by_reason, r.reason ?? r.outcome);
  if (prepared.ok) p.ready++;
  else bump(p.failing, prepared.why);
  if (r.event_id !== null) p.already_queued++;
  p.oldest ??= r.received_at.toISOString();
  p.newest = r.received_at.toISOString();
}

/**
 * Queues every `ignored` and `malformed` receipt the list's filter matches (other outcomes in the
 * filter are left alone; asking for `rejected` ones is refused). Those that still cannot be queued
 * are counted by why and skipped. `dryRun`: the preview only.
 */
export async function enqueueDeliveries(db: Db, filter: DeliveryFilters, who: Actor, dryRun: boolean) {
  if (filter.outcome?.includes('rejected')) {
    throw new AppError(
      'bad_request',
      `A rejected delivery ${NEVER_AUTHENTICATED}; filter on ignored or malformed`,
    );
  }
  const preview = emptyPreview();
  if (dryRun) {
    for await (const r of iterateEnqueueCandidates(db, filter)) tally(preview, r, prepare(r));
    return { dry_run: true as const, ...preview };
  }
  async function* items() {
    for await (const r of iterateEnqueueCandidates(db, filter)) {
      const p = prepare(r);
      tally(preview, r, p);
      // Queued before: its event may be processed and pruned since, and must not be made again.
      yield p.ok && r.event_id === null
        ? { receiptId: r.id, receivedAt: r.received_at, event: p.event }
        : null;
    }
  }
  const auditFilter = { ...filter, from: filter.from?.toISOString(), to: filter.to?.toISOString() };
  const r = await enqueueReceipts(
    db,
    items(),
    who,
    () => ({ filter: auditFilter, matched: preview.matched, failing: preview.failing }),
    env.DEDUPE_FINGERPRINT_HOURS,
  );
  return { dry_run: false as const, ...preview, created: r.created, existing: r.existing };
}
