import type { ReconciledRow } from '@/db/queries/reconciliation';
import { adviceFor, timeLeftMs } from './advice';

/**
 * A reconciled delivery as the API and the export give it: snake_case, the time left before the
 * provider gives up (at `now`), and what to do.
 */
export function reconciliationView(row: ReconciledRow, now: Date) {
  return {
    id: row.id,
    delivery_id: row.deliveryId,
    event_type: row.eventType,
    class: row.class,
    provider_status: row.providerStatus,
    attempt_number: row.attemptNumber,
    retry_deadline_at: row.retryDeadlineAt,
    time_left_ms: timeLeftMs(row, now),
    exhausted: row.exhausted,
    attempts: row.attempts,
    provider: row.provider,
    webhook_id: row.webhookId,
    source: row.source,
    first_sent_at: row.firstSentAt,
    last_sent_at: row.lastSentAt,
    provider_response_status: row.providerResponseStatus,
    receipt_id: row.receiptId,
    our_http_status: row.ourHttpStatus,
    our_outcome: row.ourOutcome,
    our_reason: row.ourReason,
    our_ack_ms: row.ourAckMs,
    checked_at: row.checkedAt,
    advice: adviceFor(row, now),
  };
}

export type ReconciliationView = ReturnType<typeof reconciliationView>;

/** Export columns: what a manual backfill through the provider's API needs first. */
export const RECONCILIATION_EXPORT_COLUMNS = [
  'delivery_id',
  'event_type',
  'class',
  'provider_status',
  'attempt_number',
  'first_sent_at',
  'last_sent_at',
  'retry_deadline_at',
  'provider',
  'webhook_id',
  'source',
  'provider_response_status',
  'our_http_status',
  'our_outcome',
  'our_reason',
  'advice',
] as const satisfies readonly (keyof ReconciliationView)[];
