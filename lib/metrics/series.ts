import { type Histogram, HistogramSum, percentiles, total } from '@/db/histogram';
import { bucketStarts } from './buckets';

export type LatencyPoint = {
  t: string;
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
};

const QS = [0.5, 0.95, 0.99] as const;

const round = (v: number | null | undefined) =>
  v === null || v === undefined ? null : Math.round(v * 100) / 100;

/** Rounded to 0.01 ms (the histogram is ~1 % accurate anyway). */
const point = (count: number, p: ReadonlyArray<number | null> | null): Omit<LatencyPoint, 't'> => ({
  count,
  p50: round(p?.[0]),
  p95: round(p?.[1]),
  p99: round(p?.[2]),
});

/** Count and percentiles of one merged histogram. */
export function summarize(h: Histogram): Omit<LatencyPoint, 't'> {
  return point(total(h), percentiles(h, QS));
}

// Both series are gap-free: every bucket in [from, to) appears, empty ones with count 0 and null
// percentiles so charts show a gap rather than a false zero.

/**
 * Points from rows that are one chart bucket each (the tier's granularity is the chart's bucket),
 * with the p50/p95/p99 stored per row (`percentiles` in the rollups job, or SQL's hist_pcts: the same definition).
 */
export function pctSeries(
  rows: ReadonlyArray<{ t: number; n: number; p50: number | null; p95: number | null; p99: number | null }>,
  fromMs: number,
  toMs: number,
  bucketS: number,
): LatencyPoint[] {
  const byT = new Map<number, (typeof rows)[number]>();
  for (const r of rows) byT.set(r.t, r);
  return bucketStarts(fromMs, toMs, bucketS).map((t) => {
    const r = byT.get(t);
    return {
      t: new Date(t).toISOString(),
      count: r?.n ?? 0,
      p50: round(r?.p50),
      p95: round(r?.p95),
      p99: round(r?.p99),
    };
  });
}

/** Points from finer rows (t, histogram): each chart point sums the histograms of its bucket. */
export function histSeries(
  rows: ReadonlyArray<{ t: number; hist: Histogram }>,
  fromMs: number,
  toMs: number,
  bucketS: number,
): LatencyPoint[] {
  const bucketMs = bucketS * 1000;
  const sums = new Map<number, HistogramSum>();
  for (const r of rows) {
    const t = Math.floor(r.t / bucketMs) * bucketMs;
    let s = sums.get(t);
    if (!s) sums.set(t, (s = new HistogramSum()));
    s.add(r.hist);
  }
  return bucketStarts(fromMs, toMs, bucketS).map((t) => {
    const s = sums.get(t);
    return { t: new Date(t).toISOString(), ...point(s?.total ?? 0, s?.percentiles(QS) ?? null) };
  });
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
