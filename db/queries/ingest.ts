import { type SQL, sql } from 'drizzle-orm';
import { type Queryable, rowsOf } from '../client';
import type { ReceiptInsert } from '../schema';

/** Fingerprints older than this many hours may be reused by a new event (DEDUPE_FINGERPRINT_HOURS). */
export const DEFAULT_FINGERPRINT_HOURS = 24;

/**
 * The conflict rule of a fingerprint claim (`insert into fingerprints as f …`): a live claim keeps
 * its event; one older than `window` is taken over by the new event, as if it had been pruned.
 */
export function fingerprintTakeover(window: SQL): SQL {
  return sql`on conflict (source, fingerprint) do update set
        event_id = case when f.created_at < now() - ${window} then excluded.event_id else f.event_id end,
        created_at = case when f.created_at < now() - ${window} then now() else f.created_at end`;
}

export type IngestItem = {
  receipt: Omit<ReceiptInsert, 'httpStatus' | 'eventId'> & { outcome: 'accepted' | 'malformed' | 'ignored' };
  event?: {
    /** Dedupe keys are unique per source: the same id on two sources is two events. */
    source: string;
    provider: string;
    deliveryId: string;
    eventType: string;
    /** Null for providers whose ids are stable across retries: no content dedupe. */
    fingerprint: string | null;
    /** JSON text jsonb can hold (numbers stay exact): cast by the database, not re-serialised here. */
    payloadText: string;
    providerTs: Date | null;
  };
};

export type IngestResult = {
  outcome: 'accepted' | 'duplicate' | 'malformed' | 'ignored';
  reason: string | null;
  receiptId: number;
  eventId: number | null;
};

/**
 * Writes a batch of signed requests as ONE statement (so one round trip and, outside a transaction,
 * one COMMIT): new events into the inbox, deduped on delivery_id and then on the content fingerprint,
 * and one receipt per request. Returns one result per item, in order.
 *
 * Why one statement: with a transaction per step the receiver paid five round trips per batch, and
 * drizzle rebuilt a statement whose text changed with the batch size, so postgres.js re-prepared it
 * every time; profiling at 1,900 req/s put a third of the receiver's CPU there. The text below never
 * changes and the batch travels as two JSON parameters.
 *
 * How it dedupes without seeing its own writes (CTEs share one snapshot); every key is per source:
 *  - `known`: candidates whose (source, delivery_id) was already committed are duplicates;
 *  - `fp` claims each remaining fingerprint (only providers without stable ids have one) for a
 *    pre-allocated event id. On conflict it always "updates" (taking over only rows past the 24 h
 *    window), so RETURNING gives the owner either way;
 *  - `ev` inserts the events whose claim won, or that need none, in delivery_id order (no deadlocks
 *    between concurrent batches).
 * A claim that won while its event lost a race on delivery_id (two in-flight batches carrying the same
 * id with different content, or the same id of a provider without fingerprints) would leave a receipt
 * pointing at no event: `ingest_abort` aborts the statement instead (SQLSTATE 40001) and the caller
 * writes the batch again, item by item.
 */
export async function ingestBatch(
  db: Queryable,
  items: IngestItem[],
  fingerprintHours = DEFAULT_FINGERPRINT_HOURS,
): Promise<IngestResult[]> {
  const { candidates, rows } = prepare(items);
  // A parameter, not text: the statement stays the same (prepared once) whatever the setting.
  const window = sql`make_interval(hours => ${fingerprintHours}::int)`;
  const result = await db.execute(sql`
    with c as materialized (
      select c.*, nextval('events_id_seq') as new_id
      from json_to_recordset(${JSON.stringify(candidates)}::json) as c(
        ${CANDIDATE_COLUMNS})
    ),
    known as (
      select c.i, e.id from c join events e on e.source = c.source and e.delivery_id = c.delivery_id
    ),
    fp as (
      insert into fingerprints as f (source, fingerprint, event_id)
      select c.source, c.fingerprint, c.new_id from c
      where c.fingerprint is not null and not exists (select 1 from known k where k.i = c.i)
      order by c.source, c.fingerprint
      ${fingerprintTakeover(window)}
      returning f.source, f.fingerprint, f.event_id
    ),
    claimed as (
      select c.*, fp.event_id as fp_owner, k.id as known_id,
        k.id is null and (c.fingerprint is null or fp.event_id = c.new_id) as wins
      from c left join known k on k.i = c.i
      left join fp on fp.source = c.source and fp.fingerprint = c.fingerprint
    ),
    ev as (
      insert into events (id, source, provider, delivery_id, event_type, fingerprint, payload, provider_ts)
      overriding system value
      select new_id, source, provider, delivery_id, event_type, fingerprint, payload::jsonb, provider_ts
      from claimed where wins
      order by source, delivery_id
      on conflict (source, delivery_id) do nothing
      returning id
    ),
    res as (
      select i,
        case when wins then 'accepted' else 'duplicate' end as outcome,
        case when known_id is not null then 'delivery_id'
             when wins then null else 'fingerprint' end as reason,
        case when known_id is not null then known_id when wins then new_id else fp_owner end as event_id,
        wins and not exists (select 1 from ev where ev.id = new_id) as lost_race
      from claimed
    ),
    r as materialized (
      select r.*, nextval('receipts_id_seq') as id,
        case when r.ref = r.i then res.outcome else r.outcome end as final_outcome,
        case when r.ref = r.i then res.reason else r.reason end as final_reason,
        res.event_id as final_event_id
      from json_to_recordset(${JSON.stringify(rows)}::json) as r(i int, ref int, ${RECEIPT_COLUMNS})
      left join res on res.i = r.ref
    ),
    ins as (
      insert into receipts (id, source, provider, delivery_id, attempt_id, event_type, outcome, reason,
        http_status, ack_ms, lag_ms, received_at, provider_ts, headers, body, body_bytes, event_id,
        secret_id)
      select id, source, provider, delivery_id, attempt_id, event_type, final_outcome, final_reason,
        http_status, ack_ms, lag_ms, received_at, provider_ts, headers, body, body_bytes, final_event_id,
        secret_id
      from r order by i
    )
    select r.i, r.id, r.final_outcome as outcome, r.final_reason as reason, r.final_event_id as event_id,
      case when exists (select 1 from res where lost_race)
           then ingest_abort('delivery_id raced with different content') end as aborted
    from r order by r.i`);
  return rowsOf<{
    i: number;
    id: string | number;
    outcome: string;
    reason: string | null;
    event_id: string | number | null;
  }>(result).map((row) => ({
    outcome: row.outcome as IngestResult['outcome'],
    reason: row.reason,
    receiptId: Number(row.id),
    eventId: row.event_id === null ? null : Number(row.event_id),
  }));
}

/** The batch as two JSON row sets; duplicates inside the batch point at their first occurrence. */
function prepare(items: IngestItem[]): { candidates: CandidateRow[]; rows: ReceiptRow[] } {
  // Duplicates inside the batch: the first occurrence wins, later ones point at it.
  const firstByDelivery = new Map<string, number>();
  const firstByFingerprint = new Map<string, number>();
  const candidates: CandidateRow[] = [];
  const rows: ReceiptRow[] = items.map((it, i) => {
    const r = it.receipt;
    let ref: number | null = null;
    let outcome: IngestResult['outcome'] = r.outcome;
    let reason = r.reason ?? null;
    if (it.event) {
      const e = it.event;
      // Keyed per source: "\n" cannot occur in a slug.
      const idKey = `${e.source}\n${e.deliveryId}`;
      const fpKey = e.fingerprint === null ? null : `${e.source}\n${e.fingerprint}`;
      const byId = firstByDelivery.get(idKey);
      const byFp = fpKey === null ? undefined : firstByFingerprint.get(fpKey);
      if (byId !== undefined || byFp !== undefined) {
        ref = byId ?? byFp!;
        outcome = 'duplicate';
        reason = byId !== undefined ? 'delivery_id' : 'fingerprint';
      } else {
        ref = i;
        firstByDelivery.set(idKey, i);
        if (fpKey !== null) firstByFingerprint.set(fpKey, i);
        candidates.push({
          i,
          source: e.source,
          provider: e.provider,
          delivery_id: it.event.deliveryId.toWellFormed(),
          event_type: it.event.eventType.toWellFormed(),
          fingerprint: it.event.fingerprint,
          payload: it.event.payloadText,
          provider_ts: it.event.providerTs,
        });
      }
    }
    return { ...receiptRow({ ...r, outcome, reason, httpStatus: 200 }), i, ref };
  });

  return { candidates, rows };
}

/**
 * Null when the database accepts every value of these items, else its error. The same casts as
 * ingestBatch, touching no table: the group commit asks before it blames a delivery's content for a
 * failed write, so a failure elsewhere (a trigger or constraint on a side table, say) can never turn
 * a valid delivery into a `malformed` receipt.
 */
export async function valuesRefusal(db: Queryable, items: IngestItem[]): Promise<unknown> {
  const { candidates, rows } = prepare(items);
  try {
    await db.execute(sql`
      select
        (select count(c.payload::jsonb) from json_to_recordset(${JSON.stringify(candidates)}::json) as c(
          ${CANDIDATE_COLUMNS})),
        (select count(r.*) from json_to_recordset(${JSON.stringify(rows)}::json)
          as r(i int, ref int, ${RECEIPT_COLUMNS}))`);
    return null;
  } catch (err) {
    return err;
  }
}

type CandidateRow = {
  i: number;
  source: string;
  provider: string;
  delivery_id: string;
  event_type: string;
  fingerprint: string | null;
  payload: string;
  provider_ts: Date | null;
};
type ReceiptRow = ReturnType<typeof receiptRow> & {
  i: number;
  /** The candidate this request's event result comes from: itself, or its first copy in the batch. */
  ref: number | null;
};

/** A receipt as one JSON object for json_to_recordset(… RECEIPT_COLUMNS): keys are the column names. */
function receiptRow(r: ReceiptInsert) {
  return {
    source: r.source,
    provider: r.provider ?? null,
    // Text columns cannot hold lone surrogates, which JSON can carry in from a signed body.
    delivery_id: r.deliveryId?.toWellFormed() ?? null,
    attempt_id: r.attemptId?.toWellFormed() ?? null,
    event_type: r.eventType?.toWellFormed() ?? null,
    outcome: r.outcome,
    reason: r.reason ?? null,
    http_status: r.httpStatus,
    ack_ms: r.ackMs,
    lag_ms: r.lagMs ?? null,
    received_at: r.receivedAt ?? new Date(),
    provider_ts: r.providerTs ?? null,
    headers: r.headers,
    body: r.body ?? null,
    body_bytes: r.bodyBytes,
    event_id: r.eventId ?? null,
    secret_id: r.secretId ?? null,
    forensics: r.forensics ?? null,
  };
}
const CANDIDATE_COLUMNS = sql.raw(`i int, source text, provider text, delivery_id text, event_type text,
  fingerprint text, payload text, provider_ts timestamptz`);
const RECEIPT_COLUMNS =
  sql.raw(`source text, provider text, delivery_id text, attempt_id text, event_type text,
  outcome text, reason text,
  http_status int, ack_ms real, lag_ms real, received_at timestamptz, provider_ts timestamptz,
  headers jsonb, body text, body_bytes int, event_id bigint, secret_id bigint, forensics jsonb`);

/**
 * Background writes of receipts that need no durability before the answer (rejections, 503s). One
 * constant statement whatever the batch size, like ingestBatch.
 */
export async function insertReceipts(db: Queryable, rows: ReceiptInsert[]): Promise<void> {
  if (rows.length === 0) return;
  await db.execute(sql`
    insert into receipts (source, provider, delivery_id, attempt_id, event_type, outcome, reason,
      http_status, ack_ms, lag_ms, received_at, provider_ts, headers, body, body_bytes, event_id,
      secret_id, forensics)
    select source, provider, delivery_id, attempt_id, event_type, outcome, reason,
      http_status, ack_ms, lag_ms, received_at, provider_ts, headers, body, body_bytes, event_id,
      secret_id, forensics
    from json_to_recordset(${JSON.stringify(rows.map(receiptRow))}::json) as r(${RECEIPT_COLUMNS})`);
}

/** A written receipt's exact ack time; receivedAt is the receipt's (its partition key). */
export type AckTime = { id: number; receivedAt: Date; ackMs: number };

/** The exact ack times of written receipts (receipt_acks; receipts.ack_ms keeps the provisional one). */
export async function insertAckTimes(db: Queryable, timings: AckTime[]) {
  if (timings.length === 0) return;
  await db.execute(sql`
    insert into receipt_acks (receipt_id, received_at, ack_ms)
    select v.id, v."receivedAt", v."ackMs"
      from json_to_recordset(${JSON.stringify(timings)}::json) as v(id bigint, "receivedAt" timestamptz, "ackMs" real)
    on conflict (receipt_id, received_at) do nothing`);
}

/**
 * A receipt committed after the receiver had answered 503 (its write outlived the deadline): it
 * records that answer, as the provider saw it, with the reason.
 */
export async function markAnsweredBeforeCommit(db: Queryable, r: { id: number; receivedAt: Date }) {
  await db.execute(sql`
    update receipts set http_status = 503, reason = 'write_timeout'
     where id = ${r.id} and received_at = ${r.receivedAt.toISOString()}::timestamptz`);
}
