import { and, asc, desc, eq, gt, gte, ilike, inArray, lt, type SQL, sql } from 'drizzle-orm';
import { type Queryable, rowsOf } from '../client';
import { ConflictError, NotFoundError } from '../errors';
import type { FailureClass } from '../filters';
import { keysetPage } from '../paging';
import { eventHistory, events } from '../schema';
import { type Actor, insertAudit } from './audit';
import { attemptsOf, deliveryIdMatch, EVENT_COLUMNS, historyOf } from './deliveries';
import { type ContentFilter, containsPattern, hasContentFilter, matchingReceiptKeys } from './search';

export type DlqFilter = ContentFilter & {
  source?: string;
  event_type?: string;
  error?: string;
  /** Delivery id, whole or its start. */
  q?: string;
  failure?: FailureClass;
  from?: Date;
  to?: Date;
  ids?: number[];
  /** Left out (the replay preview's superseded ones). */
  excludeIds?: number[];
  /** Created before this time: the retention filter ("raw receipts pruned within N days"). */
  created_before?: Date;
};

/** The class of the last failed attempt (lease losses are not failures of the event). */
const lastFailure = sql<FailureClass | null>`(select a.result from attempts a
  where a.event_id = "events"."id" and a.result in ('transient', 'permanent')
  order by a.id desc limit 1)`;

function deadWhere(f: DlqFilter): SQL | undefined {
  return and(
    eq(events.status, 'dead'),
    f.source ? eq(events.source, f.source) : undefined,
    f.event_type ? eq(events.eventType, f.event_type) : undefined,
    f.error ? ilike(events.lastError, containsPattern(f.error)) : undefined,
    f.q ? deliveryIdMatch(events.deliveryId, f.q) : undefined,
    f.failure ? sql`${lastFailure} = ${f.failure}` : undefined,
    f.from ? gte(events.deadAt, f.from) : undefined,
    f.to ? lt(events.deadAt, f.to) : undefined,
    f.ids ? inArray(events.id, f.ids) : undefined,
    // One parameter however many: a list of bind parameters is capped at 65,535.
    f.excludeIds?.length
      ? sql`not (${events.id} = any(string_to_array(${f.excludeIds.join(',')}, ',')::bigint[]))`
      : undefined,
    // A dead letter matches when the body of one of its receipts does.
    hasContentFilter(f)
      ? sql`${events.id} in (select r.event_id from receipts r where (r.id, r.received_at) in (${matchingReceiptKeys(f)}))`
      : undefined,
    f.created_before ? lt(events.createdAt, f.created_before) : undefined,
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
  failure: lastFailure,
};

/**
 * Where a page of dead letters ends: the last row's id, and for `newest` when it died (µs; null for
 * a row without the time, which sorts first).
 */
export type DlqCursor = { id: number; deadUs?: string | null };

const deadUs = sql<string | null>`(extract(epoch from ${events.deadAt}) * 1000000)::bigint::text`;

/**
 * Dead letters, most recently dead first (an event that arrived an hour ago and died just now comes
 * before one that arrived later and died sooner); `expiring` sorts the oldest arrival first, which is
 * the order their raw receipts reach the retention limit (created_at + RETENTION_DAYS; ids grow with
 * created_at). Keyset pages on (dead_at, id) through the partial index of dead letters.
 */
export async function listDeadLetters(
  db: Queryable,
  f: DlqFilter,
  page: { limit: number; cursor?: DlqCursor; sort?: 'newest' | 'expiring' },
) {
  const expiring = page.sort === 'expiring';
  const c = page.cursor;
  const after =
    c === undefined
      ? undefined
      : expiring
        ? gt(events.id, c.id)
        : c.deadUs === null || c.deadUs === undefined
          ? // Rows without the time come first (descending puts nulls first); none should exist.
            sql`((${events.deadAt} is null and ${events.id} < ${c.id}) or ${events.deadAt} is not null)`
          : sql`(${events.deadAt}, ${events.id}) < (timestamptz 'epoch' + ${c.deadUs}::bigint * interval '1 microsecond', ${c.id})`;
  const rows = await db
    .select({ ...EVENT_COLUMNS, ...FAILURE_COLUMNS, dead_us: deadUs })
    .from(events)
    .where(and(deadWhere(f), after))
    .orderBy(...(expiring ? [asc(events.id)] : [desc(events.deadAt), desc(events.id)]))
    .limit(page.limit + 1);
  const { rows: kept, nextId } = keysetPage(rows, page.limit);
  const last = kept[kept.length - 1];
  const nextCursor: DlqCursor | null =
    nextId === null || !last ? null : expiring ? { id: nextId } : { id: nextId, deadUs: last.dead_us };
  return { rows: kept.map(({ dead_us: _, ...r }) => r), nextCursor };
}

/** Every matching dead letter, most recently dead first, a page at a time: memory stays one page however many match. */
export async function* iterateDeadLetters(db: Queryable, f: DlqFilter, pageSize = 500) {
  let cursor: DlqCursor | undefined;
  for (;;) {
    const page = await listDeadLetters(db, f, { limit: pageSize, cursor });
    yield* page.rows;
    if (page.nextCursor === null) return;
    cursor = page.nextCursor;
  }
}

/**
 * What the replay preview reads of each matching dead letter, oldest first, a page at a time. The
 * payload comes as text so ids past 2^53 stay exact (lib/json.ts parses it).
 */
export async function* iterateDeadLetterPayloads(db: Queryable, f: DlqFilter, pageSize = 500) {
  let after = 0;
  for (;;) {
    const rows = await db
      .select({
        id: events.id,
        source: events.source,
        provider: events.provider,
        event_type: events.eventType,
        delivery_id: events.deliveryId,
        last_error: events.lastError,
        created_at: events.createdAt,
        created_us: sql<string>`(extract(epoch from ${events.createdAt}) * 1000000)::bigint::text`,
        provider_ts: events.providerTs,
        payload_text: sql<string>`${events.payload}::text`,
      })
      .from(events)
      .where(and(deadWhere(f), gt(events.id, after)))
      .orderBy(asc(events.id))
      .limit(pageSize);
    yield rows;
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1]!.id;
  }
}

/** The stored version of each object asked for (entity_versions), keyed by versionKey. */
export type StoredVersion = { versionMicros: bigint; deleted: boolean; eventId: number };

type ObjectKey = { source: string; entity: string; id: number | bigint | string };
export const versionKey = (k: ObjectKey) => `${k.source}:${k.entity}:${String(k.id)}`;

export async function storedVersions(db: Queryable, keys: ObjectKey[]): Promise<Map<string, StoredVersion>> {
  const out = new Map<string, StoredVersion>();
  if (keys.length === 0) return out;
  const tuples = keys.map((k) => sql`(${k.source}, ${k.entity}, ${String(k.id)}::bigint)`);
  const rows = rowsOf<{
    source: string;
    entity: string;
    id: string;
    version_us: string;
    deleted: boolean;
    event_id: string | number;
  }>(
    await db.execute(sql`select source, entity, id::text as id, deleted, event_id,
        (extract(epoch from version_at) * 1000000)::bigint::text as version_us
      from entity_versions where (source, entity, id) in (${sql.join(tuples, sql`, `)})`),
  );
  for (const r of rows) {
    out.set(versionKey(r), {
      versionMicros: BigInt(r.version_us),
      deleted: r.deleted,
      eventId: Number(r.event_id),
    });
  }
  return out;
}

/** How many dead letters a filter matches (what a bulk retry would touch), and how many of each class. */
export async function countDeadLetters(
  db: Queryable,
  f: DlqFilter,
): Promise<{ matched: number; transient: number; permanent: number }> {
  const res = await db.execute(sql`
    select count(*)::int as matched,
           count(*) filter (where c = 'transient')::int as transient,
           count(*) filter (where c = 'permanent')::int as permanent
      from (select ${lastFailure} as c from ${events} where ${deadWhere(f)}) d`);
  const r = rowsOf<{ matched: number; transient: number; permanent: number }>(res)[0];
  return {
    matched: Number(r?.matched ?? 0),
    transient: Number(r?.transient ?? 0),
    permanent: Number(r?.permanent ?? 0),
  };
}

/**
 * One event (any status) with its payload and attempt history. `payload_text` is the payload as the
 * database holds it, numbers exact: `payload` goes through JSON.parse (the driver's, the browser's),
 * which rounds an id past 2^53 to its neighbour.
 */
export async function getEvent(db: Queryable, id: number) {
  const [e] = await db
    .select({
      ...EVENT_COLUMNS,
      ...FAILURE_COLUMNS,
      payload: events.payload,
      payload_text: sql<string>`${events.payload}::text`,
    })
    .from(events)
    .where(eq(events.id, id));
  return e ? { ...e, attempt_history: await attemptsOf(db, id), history: await historyOf(db, id) } : null;
}

/**
 * Back to the queue: pending now, lease and dead_at cleared. The round's attempts counter restarts at
 * 0 so the worker grants a full set of WORKER_MAX_ATTEMPTS again; attempt_offset keeps the attempts
 * already used, so attempt numbers keep counting, and the attempts table keeps the history.
 */
const REQUEUE = {
  status: 'pending',
  attemptOffset: sql`${events.attemptOffset} + ${events.attempts}`,
  attempts: 0,
  interruptions: 0,
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
    await tx.insert(eventHistory).values({ eventId: id, kind: 'retried', actor: who.actor, detail: 'retry' });
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
    // One statement however many match: the re-queue and one history row per event.
    const res = await tx.execute(sql`
      with r as (
        update ${events} set status = 'pending', attempt_offset = attempt_offset + attempts, attempts = 0,
               interruptions = 0, retried = true, next_attempt_at = now(), dead_at = null, locked_by = null, locked_until = null
         where ${deadWhere(f)}
        returning id),
      h as (
        insert into ${eventHistory} (event_id, kind, actor, detail)
        select id, 'retried', ${who.actor}, 'bulk retry' from r)
      select count(*)::int as n from r`);
    const matched = Number(rowsOf<{ n: number }>(res)[0]?.n ?? 0);
    const filter = {
      source: f.source,
      event_type: f.event_type,
      error: f.error,
      q: f.q,
      failure: f.failure,
      from: f.from?.toISOString(),
      to: f.to?.toISOString(),
      ids: f.ids,
      text: f.text,
      path: f.path,
      value: f.value,
      excluded: f.excludeIds?.length,
    };
    await insertAudit(tx, who, 'dlq_bulk_retry', null, { filter, matched });
    return { matched };
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
    await tx.insert(eventHistory).values({ eventId: id, kind: 'discarded', actor: who.actor });
    await insertAudit(tx, who, 'dlq_discard', String(id), { event_type: rows[0]!.event_type });
    return rows[0]!;
  });
}
