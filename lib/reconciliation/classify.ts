import type { ReconciliationClass, ReconciliationDeliveryInsert } from '@/db/schema';
import type { ProviderLogEntry } from '@/lib/providers/types';

/** What we recorded for one request the provider made (a receipt), as reconciliation needs it. */
export type ReceiptFact = {
  id: number;
  deliveryId: string;
  httpStatus: number;
  outcome: string;
  reason: string | null;
  ackMs: number;
  receivedAt: Date;
};

/** The provider's delivery window (Provider['delivery']): its retry delays and its answer timeout. */
export type DeliveryRules = { retryDelaysMs: readonly number[]; timeoutMs: number };

export type Reconciled = Omit<ReconciliationDeliveryInsert, 'id' | 'checkedAt'>;

/**
 * How long after its last failed attempt, beyond the next scheduled delay and the timeout, a provider
 * that logged no further attempt is taken to have stopped (a webhook switched off drops its retries).
 */
const GIVE_UP_GRACE_MS = 5 * 60_000;

const is2xx = (status: number | null) => status !== null && status >= 200 && status < 300;

/**
 * Groups the provider's log entries into deliveries (all attempts of one event to one webhook) and
 * classifies each against our receipts. Attempts are linked by content fingerprint when the log
 * carries the body, else by delivery id; receipts are matched by delivery id (the provider sends the
 * id of each attempt, and a refused request keeps the id it claimed). A delivery whose first attempt
 * has not been sent yet is left out: there is nothing to reconcile.
 */
export function reconcile(
  webhook: { provider: string; webhookId: number; source: string | null },
  entries: readonly ProviderLogEntry[],
  receipts: readonly ReceiptFact[],
  rules: DeliveryRules,
  now: Date,
): Reconciled[] {
  const chains = new Map<string, ProviderLogEntry[]>();
  for (const e of entries) {
    const key = chainKeyOf(e);
    const list = chains.get(key);
    if (list) list.push(e);
    else chains.set(key, [e]);
  }
  const byDelivery = new Map<string, ReceiptFact[]>();
  for (const r of receipts) {
    const list = byDelivery.get(r.deliveryId);
    if (list) list.push(r);
    else byDelivery.set(r.deliveryId, [r]);
  }
  const out: Reconciled[] = [];
  for (const [chainKey, attempts] of chains) {
    const ids = new Set(attempts.flatMap((a) => (a.deliveryId ? [a.deliveryId] : [])));
    const ours = [...ids].flatMap((id) => byDelivery.get(id) ?? []);
    const row = classifyChain(attempts, ours, rules, now, webhook.source !== null);
    if (row) out.push({ ...webhook, chainKey, ...row });
  }
  return out;
}

/** Which delivery (chain of attempts) a log entry belongs to: its content, else its id, else its row. */
export function chainKeyOf(e: ProviderLogEntry): string {
  if (e.fingerprint) return `fp:${e.fingerprint}`;
  return e.deliveryId ? `id:${e.deliveryId}` : `row:${e.rowId}`;
}

type ChainResult = Omit<Reconciled, 'provider' | 'webhookId' | 'source' | 'chainKey'>;

function classifyChain(
  attempts: ProviderLogEntry[],
  ours: ReceiptFact[],
  rules: DeliveryRules,
  now: Date,
  pointsHere: boolean,
): ChainResult | null {
  const ordered = [...attempts].sort(
    (a, b) => a.attemptNumber - b.attemptNumber || a.sentAt.getTime() - b.sentAt.getTime(),
  );
  const sent = ordered.filter((a) => a.status !== 'pending');
  if (sent.length === 0) return null;
  const latest = ordered[ordered.length - 1]!;
  const lastSent = sent[sent.length - 1]!;
  const pending = ordered.find((a) => a.status === 'pending') ?? null;
  const delivered = ordered.some((a) => a.status === 'delivered');
  const maxAttempts = rules.retryDelaysMs.length + 1;
  const nextDelay = rules.retryDelaysMs[lastSent.attemptNumber - 1] ?? 0;
  const exhausted =
    !delivered &&
    !pending &&
    (lastSent.attemptNumber >= maxAttempts ||
      now.getTime() - lastSent.sentAt.getTime() > nextDelay + rules.timeoutMs + GIVE_UP_GRACE_MS);

  const inTime = ours.filter((r) => is2xx(r.httpStatus) && r.ackMs <= rules.timeoutMs);
  const late = ours.filter((r) => is2xx(r.httpStatus) && r.ackMs > rules.timeoutMs);
  const newest = (list: ReceiptFact[]) =>
    list.reduce<ReceiptFact | null>((a, b) => (!a || b.receivedAt > a.receivedAt ? b : a), null);
  const shown = newest(inTime) ?? newest(late) ?? newest(ours);

  // Refusals past the receiver's sampling cap are counted, not stored: with no receipt, a non-2xx the
  // provider logged from a webhook that points at one of our sources is still our answer.
  const refusedUnsampled =
    pointsHere && sent.some((a) => a.responseStatus !== null && !is2xx(a.responseStatus));
  let cls: ReconciliationClass;
  if (inTime.length > 0) cls = 'matched';
  else if (late.length > 0) cls = 'acked_late';
  else if (exhausted) cls = 'provider_failed';
  else if (ours.length > 0 || refusedUnsampled) cls = 'answered_non_2xx';
  else cls = 'never_received';

  return {
    deliveryId: latest.deliveryId,
    eventType: latest.eventType,
    class: cls,
    providerStatus: latest.status,
    exhausted,
    attemptNumber: latest.attemptNumber,
    attempts: ordered.length,
    firstSentAt: sent[0]!.sentAt,
    lastSentAt: lastSent.sentAt,
    retryDeadlineAt: delivered || exhausted ? null : retryDeadline(pending ?? lastSent, !!pending, rules),
    providerResponseStatus: lastSent.responseStatus,
    receiptId: shown?.id ?? null,
    ourHttpStatus: shown?.httpStatus ?? null,
    ourOutcome: shown?.outcome ?? null,
    ourReason: shown?.reason ?? null,
    ourAckMs: shown?.ackMs ?? null,
  };
}

/**
 * When the provider's last attempt will have timed out: from the attempt still to come (a pending
 * one is due at `nextAttemptAt`), add every remaining delay of the schedule and the answer timeout.
 * Past this instant the provider has given up and the event is lost.
 */
export function retryDeadline(from: ProviderLogEntry, isPending: boolean, rules: DeliveryRules): Date {
  const maxAttempts = rules.retryDelaysMs.length + 1;
  // Index of the delay that follows `from`'s attempt (attempt n is followed by delay n-1).
  const start = from.attemptNumber - 1;
  let at = (isPending ? (from.nextAttemptAt ?? from.sentAt) : from.sentAt).getTime();
  for (let i = start; i < maxAttempts - 1; i++) at += rules.retryDelaysMs[i] ?? 0;
  return new Date(at + rules.timeoutMs);
}
