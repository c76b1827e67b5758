import { and, asc, desc, eq, gt, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import { type Queryable, rowsOf, type Tx } from '../client';
import {
  events,
  type PayloadDriftKind,
  payloadDrift,
  payloadShapes,
  payloadShapeTypes,
  settings,
} from '../schema';

export const LEARNER_WATERMARK_KEY = 'payload_shapes.last_event_id';

/**
 * The learner's position (the last event id it read), locked for this transaction; null when another
 * replica holds it (that one is learning now). One learner at a time keeps counts and runs exact.
 * The row is created on first use (value 0).
 */
export async function lockLearnerWatermark(tx: Tx): Promise<number | null> {
  await tx.insert(settings).values({ key: LEARNER_WATERMARK_KEY, value: '0' }).onConflictDoNothing();
  const rows = rowsOf<{ value: string }>(
    await tx.execute(
      sql`select value from settings where key = ${LEARNER_WATERMARK_KEY} for update skip locked`,
    ),
  );
  return rows[0] ? Number(rows[0].value) : null;
}

export async function setLearnerWatermark(tx: Tx, eventId: number): Promise<void> {
  await tx
    .update(settings)
    .set({ value: String(eventId) })
    .where(eq(settings.key, LEARNER_WATERMARK_KEY));
}

export type EventToLearn = { id: number; source: string; eventType: string; payload: unknown };

/**
 * Events after the watermark in id order, at least `settleMs` old: an id is taken at insert, so a
 * younger row may still have a lower-id neighbour about to commit that the watermark would pass.
 */
export async function eventsToLearn(
  tx: Queryable,
  afterId: number,
  limit: number,
  settleMs: number,
  maxBytes: number,
): Promise<EventToLearn[]> {
  // The ids and stored sizes first, then the payloads of as many as fit `maxBytes` (at least one):
  // 500 payloads of a megabyte each, parsed at once, were most of the process's heap.
  const sized = await tx
    .select({ id: events.id, bytes: sql<number>`pg_column_size(${events.payload})` })
    .from(events)
    .where(
      and(
        gt(events.id, afterId),
        lt(events.createdAt, sql`now() - make_interval(secs => ${settleMs / 1000})`),
      ),
    )
    .orderBy(asc(events.id))
    .limit(limit);
  const ids: number[] = [];
  let total = 0;
  for (const r of sized) {
    total += Number(r.bytes);
    if (ids.length > 0 && total > maxBytes) break;
    ids.push(r.id);
  }
  if (ids.length === 0) return [];
  return tx
    .select({ id: events.id, source: events.source, eventType: events.eventType, payload: events.payload })
    .from(events)
    .where(inArray(events.id, ids))
    .orderBy(asc(events.id));
}

export async function newestEventId(tx: Queryable): Promise<number> {
  const rows = await tx.select({ id: events.id }).from(events).orderBy(desc(events.id)).limit(1);
  return rows[0]?.id ?? 0;
}

export type ShapeKey = { source: string; eventType: string };
export type ShapePathRow = {
  path: string;
  types: string;
  seen: number;
  missingRun: number;
  missingSinceEventId: number | null;
  firstEventId: number;
};
export type ShapeTypeRow = ShapeKey & { samples: number; capped: boolean; paths: ShapePathRow[] };

const keyMatch = (t: typeof payloadShapes | typeof payloadShapeTypes, keys: ShapeKey[]): SQL =>
  sql`(${t.source}, ${t.eventType}) in (${sql.join(
    keys.map((k) => sql`(${k.source}, ${k.eventType})`),
    sql`, `,
  )})`;

/** The learned shapes of these (source, event type) pairs; pairs never learned are absent. */
export async function loadShapes(tx: Queryable, keys: ShapeKey[]): Promise<ShapeTypeRow[]> {
  if (keys.length === 0) return [];
  const types = await tx
    .select({
      source: payloadShapeTypes.source,
      eventType: payloadShapeTypes.eventType,
      samples: payloadShapeTypes.samples,
      capped: payloadShapeTypes.capped,
    })
    .from(payloadShapeTypes)
    .where(keyMatch(payloadShapeTypes, keys));
  const paths = await tx
    .select({
      source: payloadShapes.source,
      eventType: payloadShapes.eventType,
      path: payloadShapes.path,
      types: payloadShapes.types,
      seen: payloadShapes.seen,
      missingRun: payloadShapes.missingRun,
      missingSinceEventId: payloadShapes.missingSinceEventId,
      firstEventId: payloadShapes.firstEventId,
    })
    .from(payloadShapes)
    .where(keyMatch(payloadShapes, keys));
  return types.map((t) => ({
    ...t,
    paths: paths
      .filter((p) => p.source === t.source && p.eventType === t.eventType)
      .map(({ source: _s, eventType: _e, ...p }) => p),
  }));
}

/** Writes learned shapes back (whole types: at most MAX_PATHS rows each). */
export async function saveShapes(tx: Tx, rows: Array<ShapeTypeRow & { lastEventId: number }>): Promise<void> {
  for (const t of rows) {
    await tx
      .insert(payloadShapeTypes)
      .values({
        source: t.source,
        eventType: t.eventType,
        samples: t.samples,
        capped: t.capped,
        lastEventId: t.lastEventId,
      })
      .onConflictDoUpdate({
        target: [payloadShapeTypes.source, payloadShapeTypes.eventType],
        set: { samples: t.samples, capped: t.capped, lastEventId: t.lastEventId, updatedAt: sql`now()` },
      });
    if (t.paths.length === 0) continue;
    await tx
      .insert(payloadShapes)
      .values(t.paths.map((p) => ({ ...p, source: t.source, eventType: t.eventType })))
      .onConflictDoUpdate({
        target: [payloadShapes.source, payloadShapes.eventType, payloadShapes.path],
        set: {
          types: sql`excluded.types`,
          seen: sql`excluded.seen`,
          missingRun: sql`excluded.missing_run`,
          missingSinceEventId: sql`excluded.missing_since_event_id`,
        },
      });
  }
}

export type DriftInsert = ShapeKey & {
  path: string;
  kind: PayloadDriftKind;
  detail: string;
  eventId: number;
};

/** Records findings; one already recorded is left as it was. Returns how many are new. */
export async function insertDrift(tx: Tx, findings: DriftInsert[]): Promise<number> {
  if (findings.length === 0) return 0;
  const rows = await tx
    .insert(payloadDrift)
    .values(findings)
    .onConflictDoNothing()
    .returning({ id: payloadDrift.id });
  return rows.length;
}

export type DriftFilter = { source?: string; from?: Date; to?: Date };

function driftWhere(f: DriftFilter) {
  return and(
    f.source ? eq(payloadDrift.source, f.source) : undefined,
    f.from ? gte(payloadDrift.detectedAt, f.from) : undefined,
    f.to ? lt(payloadDrift.detectedAt, f.to) : undefined,
  );
}

/** Drift findings, newest first, with the receipt of the delivery that showed each (for a link). */
export async function listPayloadDrift(db: Queryable, f: DriftFilter, limit: number) {
  return db
    .select({
      id: payloadDrift.id,
      source: payloadDrift.source,
      event_type: payloadDrift.eventType,
      path: payloadDrift.path,
      kind: payloadDrift.kind,
      detail: payloadDrift.detail,
      event_id: payloadDrift.eventId,
      receipt_id: sql<
        number | null
      >`(select min(r.id) from receipts r where r.event_id = ${payloadDrift.eventId})`.mapWith((v) =>
        v === null ? null : Number(v),
      ),
      detected_at: payloadDrift.detectedAt,
    })
    .from(payloadDrift)
    .where(driftWhere(f))
    .orderBy(desc(payloadDrift.detectedAt), desc(payloadDrift.id))
    .limit(limit);
}

/** How many findings of each kind match (the alert rule's input). */
export async function countPayloadDrift(
  db: Queryable,
  f: DriftFilter,
): Promise<Record<PayloadDriftKind, number>> {
  const rows = await db
    .select({ kind: payloadDrift.kind, n: sql<number>`count(*)`.mapWith(Number) })
    .from(payloadDrift)
    .where(driftWhere(f))
    .groupBy(payloadDrift.kind);
  const out = { new_field: 0, missing_field: 0, type_change: 0 };
  for (const r of rows) out[r.kind] = r.n;
  return out;
}
