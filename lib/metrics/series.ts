import { bucketStarts } from './buckets';
import { type Histogram, percentiles, total } from './histogram';

export type LatencyPoint = {
  t: string;
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
};

const QS = [0.5, 0.95, 0.99] as const;

const round = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);

/** Percentiles of one merged histogram, rounded to 0.01 ms (the histogram is ~1 % accurate anyway). */
export function summarize(h: Histogram): Omit<LatencyPoint, 't'> {
  const [p50, p95, p99] = percentiles(h, QS);
  return { count: total(h), p50: round(p50 ?? null), p95: round(p95 ?? null), p99: round(p99 ?? null) };
}

/**
 * Turns per-bucket histogram cells (bucket start, histogram bucket index, count), as summed by the
 * database, into a gap-free series: every bucket in [from, to) appears, empty ones with count 0 and
 * null percentiles so charts show a gap rather than a false zero.
 */
export function latencySeries(
  cells: ReadonlyArray<{ t: number; bucket: number; n: number }>,
  fromMs: number,
  toMs: number,
  bucketS: number,
): LatencyPoint[] {
  const byT = new Map<number, Histogram>();
  for (const c of cells) {
    const h = byT.get(c.t) ?? {};
    h[String(c.bucket)] = (h[String(c.bucket)] ?? 0) + c.n;
    byT.set(c.t, h);
  }
  return bucketStarts(fromMs, toMs, bucketS).map((t) => ({
    t: new Date(t).toISOString(),
    ...summarize(byT.get(t) ?? {}),
  }));
}

/** Counts per bucket and key (e.g. outcome), gap-free, zeros for missing keys. */
export function countSeries<K extends string>(
  cells: ReadonlyArray<{ t: number; key: string; n: number }>,
  keys: readonly K[],
  fromMs: number,
  toMs: number,
  bucketS: number,
): Array<{ t: string } & Record<K, number>> {
  const byT = new Map<number, Map<string, number>>();
  for (const c of cells) {
    const m = byT.get(c.t) ?? new Map<string, number>();
    m.set(c.key, (m.get(c.key) ?? 0) + c.n);
    byT.set(c.t, m);
  }
  return bucketStarts(fromMs, toMs, bucketS).map((t) => {
    const m = byT.get(t);
    const row = { t: new Date(t).toISOString() } as { t: string } & Record<K, number>;
    for (const k of keys) (row as Record<string, unknown>)[k] = m?.get(k) ?? 0;
    return row;
  });
}

/** n / d, or null when there is nothing to divide. */
export function rate(n: number, d: number): number | null {
  return d > 0 ? n / d : null;
}
