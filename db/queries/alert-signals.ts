import { sql } from 'drizzle-orm';
import { type Queryable, rowsOf } from '../client';
import { type Histogram, merge } from '../histogram';

/** A time as a raw-SQL parameter: postgres-js takes no Date outside a column's own mapping. */
const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

// What the alert rules read. Each query is bounded by rollup rows (minutes × event types), by the
// partial indexes of the few rows in trouble (due, dead), or by a LIMIT: none grows with receipts.

/** The refusals a provider retries: a refused signature (400) and our own 503. */
export type RetriedRefusal = 'rejected' | 'unavailable';

/**
 * Refused requests (outcome `rejected` or `unavailable`) per source and minute since `since`, from the
 * minute rollups. Requests to no known source (source '') are left out: a scanner probing paths is
 * not a signing problem.
 */
export async function refusedPerMinute(db: Queryable, since: Date, outcome: RetriedRefusal) {
  const res = await db.execute(sql`
    select source, minute, sum(count)::bigint as n from receipt_rollups
     where minute >= ${ts(since)} and outcome = ${outcome} and source <> ''
     group by source, minute order by source, minute`);
  return rowsOf<{ source: string; minute: string | Date; n: string | number }>(res).map((r) => ({
    source: r.source,
    minute: new Date(r.minute),
    n: Number(r.n),
  }));
}

/** Signed deliveries we could not read (outcome `malformed`) since `since`, per source. */
export async function malformedPerSource(db: Queryable, since: Date): Promise<Map<string, number>> {
  const res = await db.execute(sql`
    select source, sum(count)::bigint as n from receipt_rollups
     where minute >= ${ts(since)} and outcome = 'malformed' and source <> '' group by source`);
  return new Map(rowsOf<{ source: string; n: string | number }>(res).map((r) => [r.source, Number(r.n)]));
}

/** A source's refused requests in [from, to): how many, and the first minute with one. */
export async function refusedBetween(
  db: Queryable,
  source: string,
  outcome: RetriedRefusal,
  from: Date,
  to: Date,
) {
  const res = await db.execute(sql`
    select min(minute) as first, coalesce(sum(count), 0)::bigint as n from receipt_rollups
     where minute >= ${ts(from)} and minute < ${ts(to)} and outcome = ${outcome} and source = ${source}`);
  const row = rowsOf<{ first: string | Date | null; n: string | number }>(res)[0];
  return { first: row?.first ? new Date(row.first) : null, n: Number(row?.n ?? 0) };
}

/**
 * The latest stored receipts of a source with an outcome (refusals are sampled, so not every one is
 * stored), newest first, since `since`.
 */
export async function recentReceipts(
  db: Queryable,
  source: string,
  outcome: 'rejected' | 'malformed' | 'unavailable',
  since: Date,
  limit: number,
) {
  const res = await db.execute(sql`
    select id, source, delivery_id, reason, http_status, received_at from receipts
     where source = ${source} and outcome = ${outcome} and received_at >= ${ts(since)}
     order by source, id desc limit ${limit}`);
  return rowsOf<{
    id: number;
    source: string;
    delivery_id: string | null;
    reason: string | null;
    http_status: number;
    received_at: string | Date;
  }>(res).map((r) => ({ ...r, id: Number(r.id), received_at: new Date(r.received_at) }));
}

/**
 * The merged delivery-lag or ack-time histogram (all event types) of the minutes since `since`, for one
 * source or all of them ('*').
 */
export async function latencySince(
  db: Queryable,
  since: Date,
  which: 'lag' | 'ack',
  source = '*',
): Promise<Histogram> {
  const column = sql.raw(which === 'lag' ? 'lag_hist' : 'ack_hist');
  const res = await db.execute(sql`
    select ${column} as h from latency_rollups
     where granularity = 'minute' and source = ${source} and event_type = '*' and bucket >= ${ts(since)}`);
  const out: Histogram = {};
  for (const r of rowsOf<{ h: Histogram | string }>(res))
    merge(out, typeof r.h === 'string' ? JSON.parse(r.h) : r.h);
  return out;
}

/** Deliveries accepted (new events, all sources) since `since`, from the minute rollups. */
export async function acceptedSince(db: Queryable, since: Date): Promise<Map<string, number>> {
  const res = await db.execute(sql`
    select source, sum(count)::bigint as n from receipt_rollups
     where minute >= ${ts(since)} and outcome = 'accepted' group by source`);
  return new Map(rowsOf<{ source: string; n: string | number }>(res).map((r) => [r.source, Number(r.n)]));
}

/**
 * Minutes with deliveries that reached us, per source and event type (keyed `source:type`, the
 * silence rule's subject), since `since` (refusals excluded).
 */
export async function activeMinutesBySourceType(db: Queryable, since: Date) {
  const res = await db.execute(sql`
    select source, event_type, minute from receipt_rollups
     where minute >= ${ts(since)} and outcome in ('accepted', 'duplicate', 'ignored') and event_type <> ''
     group by source, event_type, minute order by source, event_type, minute`);
  const out = new Map<string, { source: string; eventType: string; minutes: number[] }>();
  for (const r of rowsOf<{ source: string; event_type: string; minute: string | Date }>(res)) {
    const key = `${r.source}:${r.event_type}`;
    const entry = out.get(key) ?? { source: r.source, eventType: r.event_type, minutes: [] };
    entry.minutes.push(new Date(r.minute).getTime());
    out.set(key, entry);
  }
  return out;
}

/** Due events nobody has picked up, per source: how many, and since when the oldest has waited. */
export async function dueBacklog(db: Queryable, now: Date) {
  const res = await db.execute(sql`
    select source, count(*)::int as n, min(next_attempt_at) as oldest from events
     where status in ('pending', 'processing') and next_attempt_at <= ${ts(now)}
       and (status = 'pending' or locked_until < ${ts(now)})
     group by source`);
  return rowsOf<{ source: string; n: number; oldest: string | Date }>(res).map((r) => ({
    source: r.source,
    n: Number(r.n),
    oldest: new Date(r.oldest),
  }));
}

/** Dead letters per source that died since `since`, with the latest few of each for the alert. */
export async function newDeadLetters(db: Queryable, since: Date, sample: number) {
  const res = await db.execute(sql`
    select id, source, event_type, delivery_id, last_error, created_at, dead_at from (
      select e.*, row_number() over (partition by source order by dead_at desc, id desc) as rn
        from events e where status = 'dead' and dead_at >= ${ts(since)}) d
     where rn <= ${sample} order by source, dead_at desc`);
  const counts = await db.execute(sql`
    select source, count(*)::int as n, min(created_at) as oldest_created from events
     where status = 'dead' and dead_at >= ${ts(since)} group by source`);
  const rows = rowsOf<{
    id: number;
    source: string;
    event_type: string;
    delivery_id: string;
    last_error: string | null;
    created_at: string | Date;
    dead_at: string | Date;
  }>(res).map((r) => ({
    ...r,
    id: Number(r.id),
    created_at: new Date(r.created_at),
    dead_at: new Date(r.dead_at),
  }));
  return rowsOf<{ source: string; n: number; oldest_created: string | Date }>(counts).map((c) => ({
    source: c.source,
    n: Number(c.n),
    oldestCreated: new Date(c.oldest_created),
    latest: rows.filter((r) => r.source === c.source),
  }));
}

/**
 * Events of the given types (per provider) created since `since`, per source: how many, and the
 * latest `sample` of each with what they say.
 */
export async function noticesSince(
  db: Queryable,
  since: Date,
  types: ReadonlyArray<{ provider: string; eventTypes: readonly string[] }>,
  sample: number,
) {
  const pairs = types.flatMap((t) => t.eventTypes.map((e) => sql`(${t.provider}, ${e})`));
  if (pairs.length === 0) return [];
  const res = await db.execute(sql`
    select id, source, event_type, delivery_id, payload, created_at, n from (
      select e.id, e.source, e.event_type, e.delivery_id, e.payload, e.created_at,
             row_number() over (partition by e.source order by e.created_at desc, e.id desc) as rn,
             count(*) over (partition by e.source) as n
        from events e
       where e.created_at >= ${ts(since)} and (e.provider, e.event_type) in (${sql.join(pairs, sql`, `)})) x
     where rn <= ${sample} order by source, created_at desc, id desc`);
  const rows = rowsOf<{
    id: number;
    source: string;
    event_type: string;
    delivery_id: string;
    payload: unknown;
    created_at: string | Date;
    n: string | number;
  }>(res).map((r) => ({ ...r, id: Number(r.id), n: Number(r.n), created_at: new Date(r.created_at) }));
  return [...new Set(rows.map((r) => r.source))].map((source) => {
    const latest = rows.filter((r) => r.source === source);
    return { source, n: latest[0]!.n, latest };
  });
}

/** Bytes the database takes on disk, as the server counts them. */
export async function databaseBytes(db: Queryable): Promise<number | null> {
  try {
    const res = await db.execute(sql`select pg_database_size(current_database())::bigint as b`);
    return Number(rowsOf<{ b: string | number }>(res)[0]?.b ?? 0) || null;
  } catch {
    // Not every server lets every role read it.
    return null;
  }
}
