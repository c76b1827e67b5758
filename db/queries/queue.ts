import { and, eq, sql } from 'drizzle-orm';
import { type Queryable, rowsOf, type Tx } from '../client';
import { type AttemptResult, attempts, eventHistory, events } from '../schema';

export type ClaimedEvent = {
  id: number;
  source: string;
  provider: string;
  deliveryId: string;
  eventType: string;
  /** The payload as JSON text: the worker parses it so numbers past 2^53 stay exact. */
  payloadText: string;
  providerTs: Date | null;
  attempts: number;
  /** Earlier claims of this event that ended without a result (events.interruptions). */
  interruptions: number;
};

/**
 * Claims up to `limit` due events under a lease. A claimed row's next_attempt_at becomes its lease
 * expiry, so one partial index serves both due pending rows and rows whose worker died. Taking a
 * pending row starts an attempt; taking a 'processing' row back means the claim before ended without
 * a result (the worker died or the lease ran out): that counts as an interruption, not an attempt,
 * so a crash costs no event one of its WORKER_MAX_ATTEMPTS however many events the worker held.
 *
 * Such an event, or one interrupted before, is claimed alone: it may be what kills its worker, and
 * events claimed with it would be interrupted with it at every crash, until MAX_INTERRUPTIONS
 * dead-lettered them too without their handler ever running. Alone, only it is. And only by a
 * worker with nothing running (`idle`): one that took it and then waited for its own batches would
 * let its lease run out meanwhile. While one is due a busy worker claims nothing; it is idle soon.
 */
export async function claimEvents(
  db: Queryable,
  worker: string,
  limit: number,
  leaseMs: number,
  idle = true,
): Promise<ClaimedEvent[]> {
  const res = await db.execute(sql`
    update events as e
       set status = 'processing', locked_by = ${worker},
           attempts = e.attempts + (e.status = 'pending')::int,
           interruptions = e.interruptions + (e.status = 'processing')::int,
           locked_until = now() + make_interval(secs => ${leaseMs / 1000}),
           next_attempt_at = now() + make_interval(secs => ${leaseMs / 1000})
     where e.id in (
       with due as (
         select id, next_attempt_at, status = 'processing' or interruptions > 0 as suspect from events
          where status in ('pending', 'processing') and next_attempt_at <= now()
          order by next_attempt_at
          limit ${limit}
          for update skip locked)
       select id from due where not exists (select 1 from due where suspect)
       union all
       (select id from due where suspect and ${idle} order by next_attempt_at, id limit 1))
    returning e.id, e.source, e.provider, e.delivery_id, e.event_type, e.payload::text as payload_text, e.provider_ts,
      e.attempts, e.interruptions`);
  return rowsOf<{
    id: number | string;
    source: string;
    provider: string;
    delivery_id: string;
    event_type: string;
    payload_text: string;
    provider_ts: string | Date | null;
    attempts: number;
    interruptions: number;
  }>(res).map((r) => ({
    id: Number(r.id),
    source: r.source,
    provider: r.provider,
    deliveryId: r.delivery_id,
    eventType: r.event_type,
    payloadText: r.payload_text,
    providerTs: r.provider_ts === null ? null : new Date(r.provider_ts),
    attempts: Number(r.attempts),
    interruptions: Number(r.interruptions),
  }));
}

/** True while this worker still holds the lease; locks the row for the rest of the transaction. */
async function holdsLease(tx: Tx, eventId: number, worker: string): Promise<boolean> {
  const rows = await tx
    .select({ id: events.id })
    .from(events)
    .where(and(eq(events.id, eventId), eq(events.lockedBy, worker), eq(events.status, 'processing')))
    .for('update');
  return rows.length > 0;
}

type AttemptRecord = {
  eventId: number;
  /** The attempt in the current round (events.attempts); stored numbered across manual retries. */
  attempt: number;
  worker: string;
  startedAt: Date;
  durationMs: number;
};

export async function recordAttempt(
  db: Queryable,
  a: AttemptRecord & { result: AttemptResult; error?: string | null },
) {
  const numbered = sql`(select attempt_offset from events where id = ${a.eventId}) + ${a.attempt}`;
  await db.insert(attempts).values({ ...a, attempt: numbered, error: a.error ?? null });
}

/**
 * Marks the event processed, records its effect and the successful attempt, in the handler's
 * transaction and in one statement. Nothing is written unless this worker still holds the lease
 * (the UPDATE re-checks locked_by after any concurrent claim commits). False: lease lost.
 */
export async function completeEvent(
  tx: Tx,
  a: AttemptRecord,
  handler: string,
  result: Extract<AttemptResult, 'success' | 'skipped_stale'> = 'success',
): Promise<boolean> {
  // The effects insert has no ON CONFLICT: a second apply of one event would violate its key and
  // roll the whole transaction back.
  const res = await tx.execute(sql`
    with done as (
      update events set status = 'processed', processed_at = now(), locked_by = null, locked_until = null,
             last_error = null
       where id = ${a.eventId} and locked_by = ${a.worker} and status = 'processing'
      returning id, attempt_offset),
    fx as (insert into effects (event_id, handler) select id, ${handler} from done),
    att as (
      insert into attempts (event_id, attempt, worker, started_at, duration_ms, result)
      select id, attempt_offset + ${a.attempt}, ${a.worker}, ${a.startedAt.toISOString()}::timestamptz, ${a.durationMs}, ${result} from done)
    select count(*)::int as n from done`);
  return Number(rowsOf<{ n: number }>(res)[0]?.n ?? 0) === 1;
}

/**
 * The events of `ids` this worker still holds, locked until the transaction ends: a batch takes its
 * leases first, so no lease can expire and be re-claimed between a handler's writes and the batch's
 * completion (a re-claim waits on the row lock, then sees the event processed).
 */
export async function lockHeldLeases(tx: Tx, worker: string, ids: number[]): Promise<Set<number>> {
  const res = await tx.execute(sql`
    select id from events
     where id = any(${`{${ids.join(',')}}`}::bigint[]) and locked_by = ${worker} and status = 'processing'
     order by id
       for update`);
  return new Set(rowsOf<{ id: number | string }>(res).map((r) => Number(r.id)));
}

/**
 * completeEvent for a whole batch in one constant statement (the batch travels as one JSON
 * parameter): marks every event processed and records its effect and its successful attempt.
 * Returns how many events were completed; the caller holds their leases (lockHeldLeases) and rolls
 * the transaction back when that is not all of them.
 */
export async function completeEvents(
  tx: Tx,
  worker: string,
  done: Array<
    Omit<AttemptRecord, 'worker'> & {
      handler: string;
      result: Extract<AttemptResult, 'success' | 'skipped_stale'>;
    }
  >,
): Promise<number> {
  const rows = done.map((d) => ({
    event_id: d.eventId,
    attempt: d.attempt,
    started_at: d.startedAt.toISOString(),
    duration_ms: d.durationMs,
    handler: d.handler,
    result: d.result,
  }));
  // Like completeEvent: effects has no ON CONFLICT, so a second apply of an event fails the batch.
  const res = await tx.execute(sql`
    with v as materialized (
      select * from json_to_recordset(${JSON.stringify(rows)}::json) as v(
        event_id bigint, attempt int, started_at timestamptz, duration_ms real, handler text, result text)),
    done as (
      update events e set status = 'processed', processed_at = now(), locked_by = null, locked_until = null,
             last_error = null
        from v
       where e.id = v.event_id and e.locked_by = ${worker} and e.status = 'processing'
      returning e.id, e.attempt_offset),
    fx as (insert into effects (event_id, handler) select v.event_id, v.handler from v join done on done.id = v.event_id),
    att as (
      insert into attempts (event_id, attempt, worker, started_at, duration_ms, result)
      select v.event_id, done.attempt_offset + v.attempt, ${worker}, v.started_at, v.duration_ms, v.result
        from v join done on done.id = v.event_id)
    select count(*)::int as n from done`);
  return Number(rowsOf<{ n: number }>(res)[0]?.n ?? 0);
}

/**
 * Schedules a retry `retryInMs` from now (the database's now: the claim compares with it, and a
 * worker host's clock behind it would make every retry due at once) or dead-letters (null). False:
 * lease lost meanwhile.
 */
export async function failEvent(
  db: Queryable,
  a: AttemptRecord & { result: 'transient' | 'permanent'; error: string },
  retryInMs: number | null,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    if (!(await holdsLease(tx, a.eventId, a.worker))) return false;
    await tx
      .update(events)
      .set(
        retryInMs !== null
          ? {
              status: 'pending',
              retried: true,
              nextAttemptAt: sql`now() + make_interval(secs => ${retryInMs / 1000})`,
              lockedBy: null,
              lockedUntil: null,
              lastError: a.error,
            }
          : { status: 'dead', deadAt: sql`now()`, lockedBy: null, lockedUntil: null, lastError: a.error },
      )
      .where(eq(events.id, a.eventId));
    await recordAttempt(tx, a);
    if (retryInMs === null) {
      const detail =
        a.result === 'permanent' ? 'permanent error' : `transient errors, ${a.attempt} attempts used`;
      await tx.insert(eventHistory).values({ eventId: a.eventId, kind: 'dead_lettered', detail });
    }
    return true;
  });
}

/**
 * Gives back events this worker holds (clean shutdown), so others can take them at once. A row a
 * batch of this worker still has locked (it outlived the stop's grace) is skipped, not waited for:
 * waiting ran into the lock timeout and released nothing at all. That batch commits it, or its lease
 * expires.
 */
export async function releaseEvents(db: Queryable, worker: string, ids: number[]) {
  if (ids.length === 0) return;
  await db.execute(sql`
    update events set status = 'pending', next_attempt_at = now(), locked_by = null, locked_until = null,
           attempts = greatest(attempts - 1, 0)
     where id in (
       select id from events
        where locked_by = ${worker} and status = 'processing' and id in (${sql.join(
          ids.map((id) => sql`${id}`),
          sql`, `,
        )})
        for update skip locked)`);
}

/** Events waiting now, how long the oldest due one has waited, and dead letters now; of one event type when given. */
export async function queueDepth(
  db: Queryable,
  filter: { event_type?: string; source?: string } = {},
): Promise<{ depth: number; oldestPendingS: number | null; dead: number }> {
  const type = sql`${filter.event_type === undefined ? sql`` : sql`and event_type = ${filter.event_type}`}
    ${filter.source === undefined ? sql`` : sql`and source = ${filter.source}`}`;
  const res = await db.execute(sql`
    select (select count(*) from events where status in ('pending', 'processing') ${type})::int as depth,
           -- How long the oldest due event has waited for a worker: since it became due, not since
           -- it was created (one in its backoff, or a dead letter re-queued a week on, is not
           -- waiting for a worker). The first row of the due index.
           (select extract(epoch from now() - min(next_attempt_at)) from events
             where status = 'pending' and next_attempt_at <= now() ${type})::float8 as oldest,
           (select count(*) from events where status = 'dead' ${type})::int as dead`);
  const r = rowsOf<{ depth: number; oldest: number | null; dead: number }>(res)[0]!;
  return {
    depth: Number(r.depth),
    oldestPendingS: r.oldest === null ? null : Number(r.oldest),
    dead: Number(r.dead),
  };
}
