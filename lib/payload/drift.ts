import type { PayloadDriftKind } from '@/db/schema';

/**
 * The drift rules, per (source, event type):
 * - The first BASELINE deliveries only teach the shape; nothing is flagged while learning.
 * - new field: a path never seen before (only the outermost new path: a new object is one finding).
 * - type change: a path carrying a JSON type it never carried (`string → number`), once per new type.
 * - missing field: a path present in at least REQUIRED_SHARE of the deliveries learned before the
 *   current run is absent from MISSING_RUN deliveries in a row. Optional fields (present in fewer)
 *   never count, nor do paths inside arrays (an empty array has no item paths), nor a path whose
 *   parent went missing in the same delivery (the parent is the finding).
 * Each finding is recorded once (payload_drift is unique on source, type, path, kind and detail).
 * At most MAX_PATHS paths are tracked per event type; past that, new paths are not tracked.
 */
export const DRIFT_RULES = {
  BASELINE: 20,
  REQUIRED_SHARE: 0.95,
  MISSING_RUN: 5,
  MAX_PATHS: 200,
} as const;

export type PathState = {
  types: string[];
  seen: number;
  missingRun: number;
  missingSinceEventId: number | null;
  firstEventId: number;
};
export type TypeState = { samples: number; capped: boolean; paths: Map<string, PathState> };
export type DriftFinding = { path: string; kind: PayloadDriftKind; detail: string; eventId: number };

export function emptyTypeState(): TypeState {
  return { samples: 0, capped: false, paths: new Map() };
}

const parentOf = (path: string) => path.replace(/(\[\]|\.[^.[\]]*)$/, '');
function underAny(path: string, roots: Set<string>): boolean {
  for (let p = parentOf(path); p && p !== path; path = p, p = parentOf(p)) if (roots.has(p)) return true;
  return false;
}

/** Learns one delivery's shape into the state (mutated) and returns what it reveals. */
export function learnShape(state: TypeState, eventId: number, shape: Map<string, string>): DriftFinding[] {
  const learning = state.samples < DRIFT_RULES.BASELINE;
  const found: DriftFinding[] = [];
  const added = new Set<string>();
  // Sorted so a parent is met before its children.
  for (const path of [...shape.keys()].sort()) {
    const type = shape.get(path) as string;
    let p = state.paths.get(path);
    if (!p) {
      if (state.paths.size >= DRIFT_RULES.MAX_PATHS) {
        state.capped = true;
        continue;
      }
      p = { types: [], seen: 0, missingRun: 0, missingSinceEventId: null, firstEventId: eventId };
      state.paths.set(path, p);
      added.add(path);
      if (!learning && !underAny(path, added)) found.push({ path, kind: 'new_field', detail: '', eventId });
    }
    const fresh = type.split('|').filter((t) => !p.types.includes(t));
    if (fresh.length > 0) {
      if (!learning && !added.has(path)) {
        found.push({ path, kind: 'type_change', detail: `${p.types.join('|')} → ${type}`, eventId });
      }
      p.types = [...p.types, ...fresh].sort();
    }
    p.seen++;
    p.missingRun = 0;
    p.missingSinceEventId = null;
  }
  const gone = new Set<string>();
  for (const path of [...state.paths.keys()].sort()) {
    if (shape.has(path)) continue;
    const p = state.paths.get(path) as PathState;
    p.missingRun++;
    p.missingSinceEventId ??= eventId;
    const before = state.samples - (p.missingRun - 1);
    if (
      !learning &&
      p.missingRun === DRIFT_RULES.MISSING_RUN &&
      before >= DRIFT_RULES.BASELINE &&
      p.seen >= DRIFT_RULES.REQUIRED_SHARE * before &&
      !path.includes('[]')
    ) {
      gone.add(path);
      if (!underAny(path, gone)) {
        found.push({ path, kind: 'missing_field', detail: '', eventId: p.missingSinceEventId });
      }
    }
  }
  state.samples++;
  return found;
}
