import { sql } from 'drizzle-orm';
import { type Queryable, rowsOf } from '../client';
import type { ReceiptInsert } from '../schema';

/** Fingerprints older than this many hours may be reused by a new event (DEDUPE_FINGERPRINT_HOURS). */
export const DEFAULT_FINGERPRINT_HOURS = 24;

export type IngestItem = {
  receipt: Omit<ReceiptInsert, 'httpStatus' | 'eventId'> & { outcome: 'accepted' | 'malformed' | 'ignored' };
  event?: {
    deliveryId: string;
    eventType: string;
    fingerprint: string;
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
 * How it dedupes without seeing its own writes (CTEs share one snapshot):
 *  - `known`: candidates whose delivery_id was already committed are duplicates;
 *  - `fp` claims each remaining fingerprint for a pre-allocated event id. On conflict it always
 *    "updates" (taking over only rows past the 24 h window), so RETURNING gives the owner either way;
 *  - `ev` inserts only the events whose claim won, in delivery_id order (no deadlocks between
 *    concurrent batches).
 * A claim that won while its event lost a race on delivery_id (two in-flight batches carrying the same
 * id with different content) would leave a fingerprint pointing at no event: `ingest_abort` aborts the
 * statement instead (SQLSTATE 40001) and the caller writes the batch again, item by item.
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
        i int, delivery_id text, event_type text, fingerprint text, payload text, provider_ts timestamptz)
    ),
    known as (
      select c.i, e.id from c join events e on e.delivery_id = c.delivery_id
    ),
    fp as (
      insert into fingerprints as f (fingerprint, event_id)
      select c.fingerprint, c.new_id from c
      where not exists (select 1 from known k where k.i = c.i)
      order by c.fingerprint
      on conflict (fingerprint) do update set
        event_id = case when f.created_at < now() - ${window} then excluded.event_id else f.event_id end,
        created_at = case when f.created_at < now() - ${window} then now() else f.created_at end
      returning f.fingerprint, f.event_id
    ),
    ev as (
      insert into events (id, delivery_id, event_type, fingerprint, payload, provider_ts)
      overriding system value
      select c.new_id, c.delivery_id, c.event_type, c.fingerprint, c.payload::jsonb, c.provider_ts
      from c join fp on fp.fingerprint = c.fingerprint and fp.event_id = c.new_id
      order by c.delivery_id
      on conflict (delivery_id) do nothing
      returning id
    ),
    res as (
      select c.i,
        case when k.id is not null then 'duplicate'
             when fp.event_id = c.new_id then 'accepted' else 'duplicate' end as outcome,
        case when k.id is not null then 'delivery_id'
             when fp.event_id = c.new_id then null else 'fingerprint' end as reason,
        coalesce(k.id, fp.event_id) as event_id,
        fp.event_id = c.new_id and not exists (select 1 from ev where ev.id = c.new_id) as lost_race
      from c left join known k on k.i = c.i left join fp on fp.fingerprint = c.fingerprint
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
      insert into receipts (id, delivery_id, event_type, outcome, reason, http_status, ack_ms, lag_ms,
        received_at, provider_ts, headers, body, body_bytes, event_id)
      overriding system value
      select id, delivery_id, event_type, final_outcome, final_reason, http_status, ack_ms, lag_ms,
        received_at, provider_ts, headers, body, body_bytes, final_event_id
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
      const byId = firstByDelivery.get(it.event.deliveryId);
      const byFp = firstByFingerprint.get(it.event.fingerprint);
      if (byId !== undefined || byFp !== undefined) {
        ref = byId ?? byFp!;
        outcome = 'duplicate';
        reason = byId !== undefined ? 'delivery_id' : 'fingerprint';
      } else {
        ref = i;
        firstByDelivery.set(it.event.deliveryId, i);
        firstByFingerprint.set(it.event.fingerprint, i);
        candidates.push({
          i,
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
          i int, delivery_id text, event_type text, fingerprint text, payload text, provider_ts timestamptz)),
        (select count(r.*) from json_to_recordset(${JSON.stringify(rows)}::json)
          as r(i int, ref int, ${RECEIPT_COLUMNS}))`);
    return null;
  } catch (err) {
    return err;
  }
}

type CandidateRow = {
  i: number;
  delivery_id: string;
  event_type: string;
  fingerprint: string;
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
    // Text columns cannot hold lone surrogates, which JSON can carry in from a signed body.
    delivery_id: r.deliveryId?.toWellFormed() ?? null,
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
  };
}
const RECEIPT_COLUMNS = sql.raw(`delivery_id text, event_type text, outcome text, reason text,
  http_status int, ack_ms real, lag_ms real, received_at timestamptz, provider_ts timestamptz,
  headers jsonb, body text, body_bytes int, event_id bigint`);

/**
 * Background writes of receipts that need no durability before the answer (rejections, 503s). One
 * constant statement whatever the batch size, like ingestBatch.
 */
export async function insertReceipts(db: Queryable, rows: ReceiptInsert[]): Promise<void> {
  if (rows.length === 0) return;
  await db.execute(sql`
    insert into receipts (delivery_id, event_type, outcome, reason, http_status, ack_ms, lag_ms,
      received_at, provider_ts, headers, body, body_bytes, event_id)
    select delivery_id, event_type, outcome, reason, http_status, ack_ms, lag_ms,
      received_at, provider_ts, headers, body, body_bytes, event_id
    from json_to_recordset(${JSON.stringify(rows.map(receiptRow))}::json) as r(${RECEIPT_COLUMNS})`);
}

/** Replaces provisional ack times with the exact ones measured after COMMIT (one constant statement). */
export async function updateAckTimes(db: Queryable, timings: Array<{ id: number; ackMs: number }>) {
  if (timings.length === 0) return;
  await db.execute(sql`
    update receipts as r set ack_ms = v."ackMs"
    from json_to_recordset(${JSON.stringify(timings)}::json) as v(id bigint, "ackMs" real)
    where r.id = v.id`);
}
