import { and, desc, eq, gte, ilike, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Queryable } from '../client';
import { ConflictError, NotFoundError } from '../errors';
import { keysetPage } from '../paging';
import { events } from '../schema';
import { type Actor, insertAudit } from './audit';
import { attemptsOf, EVENT_COLUMNS } from './deliveries';

export type DlqFilter = {
  source?: string;
  event_type?: string;
  error?: string;
  from?: Date;
  to?: Date;
  ids?: number[];
};

const containsPattern = (s: string) => `%${s.replace(/[\\%_]/g, '\\$&')}%`;

function deadWhere(f: DlqFilter): SQL | undefined {
  return and(
    eq(events.status, 'dead'),
    f.source ? eq(events.source, f.source) : undefined,
    f.event_type ? eq(events.eventType, f.event_type) : undefined,
    f.error ? ilike(events.lastError, containsPattern(f.error)) : undefined,
    f.from ? gte(events.deadAt, f.from) : undefined,
    f.to ? lt(events.deadAt, f.to) : undefined,
    f.ids ? inArray(events.id, f.ids) : undefined,
  );
}

// Failure times and the full attempt count come from the attempts table: a manual retry resets
// events.attempts, but the history stays.
const failureTime = (agg: 'min' | 'max') =>
  sql`(select ${sql.raw(agg)}(a.started_at) from attempts a
        where a.event_id = "events"."id" and a.result <> 'success')`.mapWith(events.createdAt);
const FAILURE_COLUMNS = {
  first_failure_at: failureTime('min'),
  last_failure_at: failureTime('max'),
  total_attempts: sql<number>`(select count(*) from attempts a where a.event_id = "events"."id")`.mapWith(
    Number,
  ),
};

/** Dead letters, most recently dead first. */
export async function listDeadLetters(db: Queryable, f: DlqFilter, page: { limit: number; cursor?: number }) {
  const rows = await db
    .select({ ...EVENT_COLUMNS, ...FAILURE_COLUMNS })
    .from(events)
    .where(and(deadWhere(f), page.cursor !== undefined ? lt(events.id, page.cursor) : undefined))
    .orderBy(desc(events.id))
    .limit(page.limit + 1);
  return keysetPage(rows, page.limit);
}

/** How many dead letters a filter matches (what a bulk retry would touch). */
export async function countDeadLetters(db: Queryable, f: DlqFilter): Promise<number> {
  const [r] = await db
    .select({ n: sql<number>`count(*)`.mapWith(Number) })
    .from(events)
    .where(deadWhere(f));
  return r?.n ?? 0;
}

/** One event (any status) with its payload and attempt history. */
export async function getEvent(db: Queryable, id: number) {
  const [e] = await db
    .select({ ...EVENT_COLUMNS, ...FAILURE_COLUMNS, payload: events.payload })
    .from(events)
    .where(eq(events.id, id));
  return e ? { ...e, attempt_history: await attemptsOf(db, id) } : null;
}

/**
 * Back to the queue: pending now, lease and dead_at cleared. The attempts counter restarts at 0 so
 * the worker grants a full set of WORKER_MAX_ATTEMPTS again; the attempts table keeps the history.
 */
const REQUEUE = {
  status: 'pending',
  attempts: 0,
  retried: true,
  nextAttemptAt: sql`now()`,
  deadAt: null,
  lockedBy: null,
  lockedUntil: null,
} as const;

async function assertDead(db: Queryable, id: number, changed: boolean) {
  if (changed) return;
  const [e] = await db.select({ status: events.status }).from(events).where(eq(events.id, id));
  if (!e) throw new NotFoundError('Event', id);
  throw new ConflictError(`Event ${id} is ${e.status}, not dead`);
}

export async function retryDeadLetter(db: Queryable, id: number, who: Actor) {
  return db.transaction(async (tx) => {
    const rows = await tx
      .update(events)
      .set(REQUEUE)
      .where(and(eq(events.id, id), eq(events.status, 'dead')))
      .returning(EVENT_COLUMNS);
    await assertDead(tx, id, rows.length > 0);
    await insertAudit(tx, who, 'dlq_retry', String(id), { event_type: rows[0]!.event_type });
    return rows[0]!;
  });
}

/** Re-queues every dead letter matching the filter, in one statement and one transaction. */
export async function retryDeadLetters(
  db: Queryable,
  f: DlqFilter,
  who: Actor,
): Promise<{ matched: number }> {
  return db.transaction(async (tx) => {
    const res = await tx.update(events).set(REQUEUE).where(deadWhere(f)).returning({ id: events.id });
    const filter = {
      source: f.source,
      event_type: f.event_type,
      error: f.error,
      from: f.from?.toISOString(),
      to: f.to?.toISOString(),
      ids: f.ids,
    };
    await insertAudit(tx, who, 'dlq_bulk_retry', null, { filter, matched: res.length });
    return { matched: res.length };
  });
}

/** Marks a dead letter discarded: kept for audit, never retried, pruned with processed events. */
export async function discardDeadLetter(db: Queryable, id: number, who: Actor) {
  return db.transaction(async (tx) => {
    const rows = await tx
      .update(events)
      .set({ status: 'discarded', discardedAt: sql`now()` })
      .where(and(eq(events.id, id), eq(events.status, 'dead')))
      .returning(EVENT_COLUMNS);
    await assertDead(tx, id, rows.length > 0);
    await insertAudit(tx, who, 'dlq_discard', String(id), { event_type: rows[0]!.event_type });
    return rows[0]!;
  });
}
