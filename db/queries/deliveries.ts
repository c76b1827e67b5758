import { and, asc, type Column, desc, eq, gte, inArray, like, lt, type SQL, sql } from 'drizzle-orm';
import type { Queryable } from '../client';
import type { ProcessingFilter } from '../filters';
import { keysetPage } from '../paging';
import { attempts, type EventStatus, eventHistory, events, type ReceiptOutcome, receipts } from '../schema';
import { type ContentFilter, hasContentFilter, matchingReceiptKeys } from './search';

const STATUSES_OF: Record<ProcessingFilter, EventStatus[]> = {
  processed: ['processed'],
  pending: ['pending', 'processing'],
  dead: ['dead'],
  discarded: ['discarded'],
};

export type DeliveryFilters = ContentFilter & {
  source?: string;
  outcome?: ReceiptOutcome[];
  status?: ProcessingFilter;
  event_type?: string;
  q?: string;
  from?: Date;
  to?: Date;
};

/** LIKE pattern for "starts with", with the pattern characters in the input taken literally. */
export const prefixPattern = (s: string) => `${s.replace(/[\\%_]/g, '\\$&')}%`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A whole id is an equality (any collation uses the index); anything shorter is a prefix search. */
export const deliveryIdMatch = (column: Column, q: string) =>
  UUID.test(q) ? eq(column, q) : like(column, prefixPattern(q));

/** A receipt's ack time: the exact one once written (receipt_acks), else the provisional one. */
export const ackMsOf =
  sql<number>`coalesce((select a.ack_ms from receipt_acks a where a.receipt_id = ${receipts.id} and a.received_at = ${receipts.receivedAt}), ${receipts.ackMs})`.mapWith(
    Number,
  );

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
  ack_ms: ackMsOf,
  lag_ms: receipts.lagMs,
  received_at: receipts.receivedAt,
  event_id: receipts.eventId,
  body_bytes: receipts.bodyBytes,
};

// The event's state for the list (a scalar subquery: the page is at most 200 rows and each is one
// primary-key lookup, where a join would make the planner walk receipts and events together).
const EVENT_STATUS = sql<EventStatus | null>`(select e.status from events e where e.id = ${receipts.eventId})`;

/**
 * What a refused request said it was: its delivery id and event type as claimed (the receiver keeps
 * them on the refusal's own row, whichever provider's headers they came from). Unverified: for
 * display only, never a key or a filter option.
 */
const claimed = (column: Column) =>
  sql<string | null>`case when ${receipts.outcome} = 'rejected' then left(${column}, 200) end`;

/** Every filter of the receipt log; the list, the export and the bulk enqueue share it. */
export function deliveriesWhere(f: DeliveryFilters): SQL | undefined {
  return and(
    f.source ? eq(receipts.source, f.source) : undefined,
    f.outcome ? inArray(receipts.outcome, f.outcome) : undefined,
    f.status ? inArray(EVENT_STATUS, STATUSES_OF[f.status]) : undefined,
    f.event_type ? eq(receipts.eventType, f.event_type) : undefined,
    f.q ? deliveryIdMatch(receipts.deliveryId, f.q) : undefined,
    f.from ? gte(receipts.receivedAt, f.from) : undefined,
    f.to ? lt(receipts.receivedAt, f.to) : undefined,
    hasContentFilter(f)
      ? sql`(${receipts.id}, ${receipts.receivedAt}) in (${matchingReceiptKeys(f)})`
      : undefined,
  );
}

/**
 * The receipt log, newest first. `q` matches `delivery_id` exactly or by its start; `text`, `path`
 * and `value` match the body (db/queries/search.ts).
 */
export async function listDeliveries(
  db: Queryable,
  f: DeliveryFilters,
  page: { limit: number; cursor?: number },
) {
  const rows = await db
    .select({
      ...LIST_COLUMNS,
      event_status: EVENT_STATUS,
      claimed_delivery_id: claimed(receipts.deliveryId),
      claimed_event_type: claimed(receipts.eventType),
    })
    .from(receipts)
    .where(and(deliveriesWhere(f), page.cursor !== undefined ? lt(receipts.id, page.cursor) : undefined))
    .orderBy(desc(receipts.id))
    .limit(page.limit + 1);
  return keysetPage(rows, page.limit);
}

/** Every matching receipt, newest first, a page at a time: memory stays one page however many match. */
export async function* iterateDeliveries(db: Queryable, f: DeliveryFilters, pageSize = 500) {
  let cursor: number | undefined;
  for (;;) {
    const page = await listDeliveries(db, f, { limit: pageSize, cursor });
    yield* page.rows;
    if (page.nextId === null) return;
    cursor = page.nextId;
  }
}

export const EVENT_COLUMNS = {
  id: events.id,
  source: events.source,
  provider: events.provider,
  delivery_id: events.deliveryId,
  event_type: events.eventType,
  status: events.status,
  attempts: events.attempts,
  interruptions: events.interruptions,
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

/** Dead-letterings, manual retries and discards of one event, oldest first. */
export async function historyOf(db: Queryable, eventId: number) {
  return db
    .select({
      id: eventHistory.id,
      at: eventHistory.at,
      kind: eventHistory.kind,
      actor: eventHistory.actor,
      detail: eventHistory.detail,
    })
    .from(eventHistory)
    .where(eq(eventHistory.eventId, eventId))
    .orderBy(asc(eventHistory.id));
}

/** One receipt with headers and body, plus its event's processing state and every attempt. */
export async function getDelivery(db: Queryable, id: number) {
  const [r] = await db
    .select({
      ...LIST_COLUMNS,
      provider_ts: receipts.providerTs,
      headers: receipts.headers,
      body: receipts.body,
      secret_id: receipts.secretId,
      forensics: receipts.forensics,
    })
    .from(receipts)
    .where(eq(receipts.id, id));
  if (!r) return null;
  if (r.event_id === null) return { ...r, event: null, attempts: [], history: [] };
  const [event] = await db.select(EVENT_COLUMNS).from(events).where(eq(events.id, r.event_id));
  if (!event) return { ...r, event: null, attempts: [], history: [] };
  return { ...r, event, attempts: await attemptsOf(db, event.id), history: await historyOf(db, event.id) };
}
