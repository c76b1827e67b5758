import { and, asc, desc, eq, gte, like, lt } from 'drizzle-orm';
import type { Queryable } from '../client';
import { keysetPage } from '../paging';
import { attempts, events, type ReceiptOutcome, receipts } from '../schema';

export type DeliveryFilters = {
  source?: string;
  outcome?: ReceiptOutcome;
  event_type?: string;
  q?: string;
  from?: Date;
  to?: Date;
};

/** LIKE pattern for "starts with", with the pattern characters in the input taken literally. */
export const prefixPattern = (s: string) => `${s.replace(/[\\%_]/g, '\\$&')}%`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A whole id is an equality (any collation uses the index); anything shorter is a prefix search. */
const deliveryIdMatch = (q: string) =>
  UUID.test(q) ? eq(receipts.deliveryId, q) : like(receipts.deliveryId, prefixPattern(q));

const LIST_COLUMNS = {
  id: receipts.id,
  source: receipts.source,
  provider: receipts.provider,
  delivery_id: receipts.deliveryId,
  attempt_id: receipts.attemptId,
  event_type: receipts.eventType,
  outcome: receipts.outcome,
  reason: receipts.reason,
  http_status: receipts.httpStatus,
  ack_ms: receipts.ackMs,
  lag_ms: receipts.lagMs,
  received_at: receipts.receivedAt,
  event_id: receipts.eventId,
  body_bytes: receipts.bodyBytes,
};

/** The receipt log, newest first. `q` matches `delivery_id` exactly or by its start. */
export async function listDeliveries(
  db: Queryable,
  f: DeliveryFilters,
  page: { limit: number; cursor?: number },
) {
  const rows = await db
    .select(LIST_COLUMNS)
    .from(receipts)
    .where(
      and(
        f.source ? eq(receipts.source, f.source) : undefined,
        f.outcome ? eq(receipts.outcome, f.outcome) : undefined,
        f.event_type ? eq(receipts.eventType, f.event_type) : undefined,
        f.q ? deliveryIdMatch(f.q) : undefined,
        f.from ? gte(receipts.receivedAt, f.from) : undefined,
        f.to ? lt(receipts.receivedAt, f.to) : undefined,
        page.cursor !== undefined ? lt(receipts.id, page.cursor) : undefined,
      ),
    )
    .orderBy(desc(receipts.id))
    .limit(page.limit + 1);
  return keysetPage(rows, page.limit);
}

export const EVENT_COLUMNS = {
  id: events.id,
  source: events.source,
  provider: events.provider,
  delivery_id: events.deliveryId,
  event_type: events.eventType,
  status: events.status,
  attempts: events.attempts,
  next_attempt_at: events.nextAttemptAt,
  last_error: events.lastError,
  created_at: events.createdAt,
  processed_at: events.processedAt,
  dead_at: events.deadAt,
  discarded_at: events.discardedAt,
};

export async function attemptsOf(db: Queryable, eventId: number) {
  return db
    .select({
      id: attempts.id,
      attempt: attempts.attempt,
      worker: attempts.worker,
      started_at: attempts.startedAt,
      duration_ms: attempts.durationMs,
      result: attempts.result,
      error: attempts.error,
    })
    .from(attempts)
    .where(eq(attempts.eventId, eventId))
    .orderBy(asc(attempts.startedAt), asc(attempts.id));
}

/** One receipt with headers and body, plus its event's processing state and every attempt. */
export async function getDelivery(db: Queryable, id: number) {
  const [r] = await db
    .select({
      ...LIST_COLUMNS,
      provider_ts: receipts.providerTs,
      headers: receipts.headers,
      body: receipts.body,
    })
    .from(receipts)
    .where(eq(receipts.id, id));
  if (!r) return null;
  if (r.event_id === null) return { ...r, event: null, attempts: [] };
  const [event] = await db.select(EVENT_COLUMNS).from(events).where(eq(events.id, r.event_id));
  return { ...r, event: event ?? null, attempts: event ? await attemptsOf(db, event.id) : [] };
}
