import type { Db, Queryable } from '@/db/client';
import {
  countPayloadDrift,
  type DriftInsert,
  eventsToLearn,
  insertDrift,
  LEARNER_WATERMARK_KEY,
  listPayloadDrift,
  loadShapes,
  lockLearnerWatermark,
  newestEventId,
  saveShapes,
  setLearnerWatermark,
} from '@/db/queries/payload-shapes';
import { getSetting } from '@/db/queries/settings';
import { emptyTypeState, learnShape, type TypeState } from './drift';
import { shapeOf } from './shape';

export type LearnOptions = {
  /** Events read per run (one transaction). */
  batch?: number;
  /** Payload bytes read per run (as stored, so compressed: parsed they are several times this). */
  maxBytes?: number;
  /** Events younger than this wait for the next run (see eventsToLearn). */
  settleMs?: number;
  /** Further behind than this, the learner jumps to the recent end instead of replaying history. */
  maxBacklog?: number;
};

export type LearnResult = { learned: number; drift: number; busy: boolean };

const key = (source: string, eventType: string) => `${source}\u0000${eventType}`;

/**
 * Learns the shapes of the events queued since the last run and records drift (lib/payload/drift.ts
 * has the rules). Runs as a background job, never on the receive path; one replica at a time (the
 * watermark row is locked, and a run that finds it moved gives way), the write in one transaction so
 * counts, runs and findings move together.
 */
export async function learnPayloadShapes(db: Db, opts: LearnOptions = {}): Promise<LearnResult> {
  const batch = opts.batch ?? 500;
  const settleMs = opts.settleMs ?? 5_000;
  const maxBacklog = opts.maxBacklog ?? 20_000;
  // Read and infer outside the transaction: on embedded PGlite (one connection) the transaction
  // holds up the receiver, so it keeps only the short locked read-modify-write.
  const seen = Number((await getSetting(db, LEARNER_WATERMARK_KEY)) ?? 0);
  const newest = await newestEventId(db);
  // A burst or an old database: shape drift is judged on a sample, so catching up on every event
  // would only delay the findings that matter (the recent ones).
  const after = newest - seen > maxBacklog ? newest - batch : seen;
  const rows = (await eventsToLearn(db, after, batch, settleMs, opts.maxBytes ?? 8 * 1_048_576)).map(
    ({ payload, ...r }) => ({ ...r, shape: shapeOf(payload) }),
  );
  if (rows.length === 0) return { learned: 0, drift: 0, busy: false };

  return db.transaction(async (tx) => {
    // Another replica moved the watermark since the read above (or holds it now): its run counts.
    if ((await lockLearnerWatermark(tx)) !== seen) return { learned: 0, drift: 0, busy: true };
    const states = new Map<string, TypeState & { source: string; eventType: string; lastEventId: number }>();
    const pairs = [...new Map(rows.map((r) => [key(r.source, r.eventType), r])).values()];
    for (const t of await loadShapes(
      tx,
      pairs.map((r) => ({ source: r.source, eventType: r.eventType })),
    )) {
      states.set(key(t.source, t.eventType), {
        source: t.source,
        eventType: t.eventType,
        samples: t.samples,
        capped: t.capped,
        lastEventId: 0,
        paths: new Map(t.paths.map(({ path, types, ...p }) => [path, { ...p, types: types.split(',') }])),
      });
    }
    const findings: DriftInsert[] = [];
    for (const ev of rows) {
      const k = key(ev.source, ev.eventType);
      let s = states.get(k);
      if (!s) {
        s = { ...emptyTypeState(), source: ev.source, eventType: ev.eventType, lastEventId: 0 };
        states.set(k, s);
      }
      for (const f of learnShape(s, ev.id, ev.shape)) {
        findings.push({ ...f, source: ev.source, eventType: ev.eventType });
      }
      s.lastEventId = ev.id;
    }
    await saveShapes(
      tx,
      [...states.values()]
        .filter((s) => s.lastEventId > 0)
        .map((s) => ({
          source: s.source,
          eventType: s.eventType,
          samples: s.samples,
          capped: s.capped,
          lastEventId: s.lastEventId,
          paths: [...s.paths].map(([path, p]) => ({ ...p, path, types: p.types.join(',') })),
        })),
    );
    const drift = await insertDrift(tx, findings);
    await setLearnerWatermark(tx, Math.max(...rows.map((r) => r.id)));
    return { learned: rows.length, drift, busy: false };
  });
}

/**
 * For an alert rule: the payload drift found since a moment (optionally for one source), counted by
 * kind, with the newest findings to name in the alert. `total > 0` means a shape changed.
 */
export async function payloadDriftSince(db: Queryable, since: Date, source?: string) {
  const byKind = await countPayloadDrift(db, { from: since, source });
  const total = byKind.new_field + byKind.missing_field + byKind.type_change;
  const latest = total > 0 ? await listPayloadDrift(db, { from: since, source }, 5) : [];
  return { total, byKind, latest };
}
