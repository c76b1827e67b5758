// One absurd point (a delivery with a months-old timestamp, a stalled minute) must not stretch a
// chart's axis until the normal values are a flat line at the bottom. Values far above the bulk are
// drawn at a cap instead, keep their real value for the tooltip, and the chart says how many.

/** A value above FACTOR × the 90th percentile of all the chart's values is an outlier. */
const FACTOR = 10;
/** With fewer values than this there is no "bulk" to compare with: nothing is clamped. */
const MIN_VALUES = 8;

export type Clamped<P, K extends keyof P> = {
  points: Array<P & { raw: Partial<Record<K, number>> }>;
  /** The axis maximum, or null when nothing was clamped. */
  cap: number | null;
  /** How many values were drawn at the cap. */
  clamped: number;
};

export function clampOutliers<P extends Record<K, number | null>, K extends keyof P>(
  points: P[],
  keys: readonly K[],
): Clamped<P, K> {
  const values = points
    .flatMap((p) => keys.map((k) => p[k] as number | null))
    .filter((v): v is number => v !== null && Number.isFinite(v) && v > 0)
    .sort((a, b) => a - b);
  const none = { points: points.map((p) => ({ ...p, raw: {} })), cap: null, clamped: 0 };
  if (values.length < MIN_VALUES) return none;
  const p90 = values[Math.min(values.length - 1, Math.floor(values.length * 0.9))]!;
  const cap = p90 * FACTOR;
  let clamped = 0;
  const out = points.map((p) => {
    const raw: Partial<Record<K, number>> = {};
    const copy = { ...p };
    for (const k of keys) {
      const v = p[k] as number | null;
      if (v !== null && v > cap) {
        raw[k] = v;
        (copy as Record<K, number | null>)[k] = cap;
        clamped++;
      }
    }
    return { ...copy, raw };
  });
  return clamped === 0 ? none : { points: out, cap, clamped };
}
