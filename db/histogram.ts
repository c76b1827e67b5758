/**
 * Log-scale histograms for durations in milliseconds, stored sparse ({bucket: count}) in rollups.
 * Bucket i covers (MIN·G^(i−1), MIN·G^i]; reading back the bucket's geometric midpoint is within
 * about 1 % of any value in it. The SQL function hist_bucket (migration 0001) must match bucketOf.
 */
export const HIST_MIN_MS = 0.01;
export const HIST_GROWTH = 1.02;
const LN_G = Math.log(HIST_GROWTH);

export type Histogram = Record<string, number>;

export function bucketOf(ms: number): number {
  return ms <= HIST_MIN_MS ? 0 : Math.ceil(Math.log(ms / HIST_MIN_MS) / LN_G);
}

export function bucketValue(bucket: number): number {
  return bucket <= 0 ? 0 : HIST_MIN_MS * HIST_GROWTH ** (bucket - 0.5);
}

export function record(h: Histogram, ms: number, count = 1): Histogram {
  const k = String(bucketOf(ms));
  h[k] = (h[k] ?? 0) + count;
  return h;
}

export function merge(into: Histogram, from: Histogram): Histogram {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + Number(n);
  return into;
}

export function total(h: Histogram): number {
  let n = 0;
  for (const v of Object.values(h)) n += Number(v);
  return n;
}

/** Percentiles (q in 0..1) by nearest rank over the buckets; null for an empty histogram. */
export function percentiles(h: Histogram, qs: readonly number[]): Array<number | null> {
  const entries = Object.entries(h)
    .map(([k, n]) => [Number(k), Number(n)] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => a[0] - b[0]);
  const n = entries.reduce((s, [, c]) => s + c, 0);
  if (n === 0) return qs.map(() => null);
  return qs.map((q) => {
    const rank = Math.max(1, Math.ceil(q * n));
    let seen = 0;
    for (const [bucket, count] of entries) {
      seen += count;
      if (seen >= rank) return bucketValue(bucket);
    }
    return bucketValue(entries[entries.length - 1]![0]);
  });
}

/**
 * Sums many sparse histograms into one array indexed by bucket, so merging a chart point's tier rows
 * costs an addition per entry instead of a string-keyed object per merge. Its percentiles are exactly
 * `percentiles` of the merged histogram (buckets ≤ 0 all read back as 0, so they share index 0).
 */
export class HistogramSum {
  private counts = new Float64Array(1024);
  private top = -1;
  private n = 0;

  add(h: Histogram): void {
    for (const k in h) {
      const c = Number(h[k]);
      if (!(c > 0)) continue;
      const b = Math.max(0, Number(k));
      if (b >= this.counts.length) {
        const grown = new Float64Array(Math.max(b + 1, this.counts.length * 2));
        grown.set(this.counts);
        this.counts = grown;
      }
      this.counts[b]! += c;
      if (b > this.top) this.top = b;
      this.n += c;
    }
  }

  get total(): number {
    return this.n;
  }

  percentiles(qs: readonly number[]): Array<number | null> {
    if (this.n === 0) return qs.map(() => null);
    return qs.map((q) => {
      const rank = Math.max(1, Math.ceil(q * this.n));
      let seen = 0;
      for (let b = 0; b <= this.top; b++) {
        seen += this.counts[b]!;
        if (seen >= rank) return bucketValue(b);
      }
      return bucketValue(this.top);
    });
  }
}
