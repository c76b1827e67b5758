// One absurd point (a delivery with a months-old timestamp, a stalled minute) must not stretch a
// chart's axis until the normal values are a flat line at the bottom. Values far above the bulk are
// drawn at a cap instead, keep their real value for the tooltip, and the chart says how many.

/**
 * A value above FACTOR × the median of the highest series (p99 on a latency chart) is an outlier. The
 * median, not a high percentile of all values: on a short range a single absurd bucket lifts p95 and
 * p99 together, which would lift a percentile cap with them.
 */
const FACTOR = 10;
/** A series with fewer values than this has no "usual" to compare with. */
const MIN_VALUES = 3;

export type Clamped<P, K extends keyof P> = {
  points: Array<P & { raw: Partial<Record<K, number>> }>;
  /** The axis maximum, or null when nothing was clamped. */
  cap: number | null;
  /** How many values were drawn at the cap. */
  clamped: number;
};

function median(sorted: number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

/**
 * A log axis has no 0 and no negatives: a percentile at or below 0 (the lag of a provider whose clock
 * runs ahead of ours) is drawn at this floor, keeping its real value for the tooltip. Drawn as is, one
 * such point made every value of the chart NaN, and the plot came out empty.
 */
export const LOG_FLOOR = 0.01;

export function clampOutliers<P extends Record<K, number | null>, K extends keyof P>(
  points: P[],
  keys: readonly K[],
): Clamped<P, K> {
  const medians = keys.flatMap((k) => {
    const values = points
      .map((p) => p[k] as number | null)
      .filter((v): v is number => v !== null && Number.isFinite(v) && v > 0)
      .sort((a, b) => a - b);
    return values.length >= MIN_VALUES ? [median(values)] : [];
  });
  const cap = medians.length === 0 ? null : Math.max(...medians) * FACTOR;
  let clamped = 0;
  const out = points.map((p) => {
    const raw: Partial<Record<K, number>> = {};
    const copy = { ...p };
    for (const k of keys) {
      const v = p[k] as number | null;
      if (v === null) continue;
      if (v <= 0) {
        raw[k] = v;
        (copy as Record<K, number | null>)[k] = LOG_FLOOR;
      } else if (cap !== null && v > cap) {
        raw[k] = v;
        (copy as Record<K, number | null>)[k] = cap;
        clamped++;
      }
    }
    return { ...copy, raw };
  });
  return { points: out, cap: clamped === 0 ? null : cap, clamped };
}
