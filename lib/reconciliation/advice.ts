import type { ReconciliationClass } from '@/db/schema';
import { formatAge, formatMs } from '@/lib/format';

/** The parts of a reconciled delivery the advice reads. */
export type AdviceInput = {
  class: ReconciliationClass;
  exhausted: boolean;
  attemptNumber: number;
  eventType: string;
  deliveryId: string | null;
  firstSentAt: Date;
  retryDeadlineAt: Date | null;
  ourHttpStatus: number | null;
  ourReason: string | null;
  providerResponseStatus: number | null;
  ourAckMs: number | null;
};

/** Time left before the provider gives up, in ms (0 once past); null when it no longer retries. */
export function timeLeftMs(row: Pick<AdviceInput, 'retryDeadlineAt'>, now: Date): number | null {
  return row.retryDeadlineAt ? Math.max(0, row.retryDeadlineAt.getTime() - now.getTime()) : null;
}

/** One sentence for an operator: what happened to this delivery and what to do now. */
export function adviceFor(row: AdviceInput, now: Date): string {
  const left = timeLeftMs(row, now);
  const until = left !== null ? ` Fix it within ${formatAge(left)} and the provider's next retry lands.` : '';
  switch (row.class) {
    case 'matched':
      return 'Received and acknowledged in time. Nothing to do.';
    case 'acked_late':
      return `We accepted it but answered in ${formatMs(row.ourAckMs)}, past the provider's timeout, so it counts it failed and retries (our copy is kept; retries are deduplicated). Look at receiver latency and database load.`;
    case 'answered_non_2xx': {
      // No receipt: a refusal past the receiver's sampling cap, known from the provider's log only.
      const status = row.ourHttpStatus ?? row.providerResponseStatus;
      const why = row.ourReason
        ? ` (${row.ourReason})`
        : row.ourHttpStatus === null
          ? " (per the provider's log)"
          : '';
      return `We answered ${status}${why}. ${refusalHint(status)}${until}`;
    }
    case 'never_received':
      return `The provider says it sent this (attempt ${row.attemptNumber}) but no request reached us. Check that the provider's webhook URL points at this app and that it is reachable from outside.${until}`;
    case 'provider_failed':
      return `Lost: the provider gave up after ${row.attemptNumber} attempt${row.attemptNumber === 1 ? '' : 's'} and offers no replay. ${row.eventType} sent ${row.firstSentAt.toISOString()}${row.deliveryId ? `, delivery ${row.deliveryId}` : ''}. ${row.ourHttpStatus === null ? 'None of its attempts reached us.' : `We answered ${row.ourHttpStatus}${row.ourReason ? ` (${row.ourReason})` : ''}.`} Export it and backfill the object through the provider's own API.`;
  }
}

function refusalHint(status: number | null): string {
  if (status === 400 || status === 401) {
    return "A refused signature usually means the secret was rotated on one side only: make the source's secret match the provider's.";
  }
  if (status === 413) return 'The body was over RECEIVER_MAX_BODY_BYTES: raise the limit.';
  if (status === 503) return 'Our database was unavailable: check its health; the provider will retry.';
  if (status === 404) return 'The source is unknown or disabled here: create or enable it.';
  return 'Look at the receipt for the reason.';
}
