/** Time ranges the pages offer; the URL carries the key. */
export const TIME_RANGES = ['15m', '1h', '6h', '24h', '7d', '30d'] as const;
export type TimeRange = (typeof TIME_RANGES)[number];

const MINUTE = 60_000;
const RANGE_MS: Record<TimeRange, number> = {
  '15m': 15 * MINUTE,
  '1h': 60 * MINUTE,
  '6h': 6 * 60 * MINUTE,
  '24h': 24 * 60 * MINUTE,
  '7d': 7 * 24 * 60 * MINUTE,
  '30d': 30 * 24 * 60 * MINUTE,
};

export function rangeMs(range: TimeRange): number {
  return RANGE_MS[range];
}

/** Bucket sizes the charts use, all whole minutes because rollups are per minute. */
export const BUCKET_SIZES_S = [60, 300, 900, 3600, 3 * 3600, 6 * 3600, 86_400] as const;
/** More points than this is more than a chart can show and more than a response should carry. */
export const MAX_POINTS = 400;
/** The longest range a metrics query may span. */
export const MAX_RANGE_MS = 400 * 86_400_000;

/**
 * The smallest bucket that keeps the series within MAX_POINTS: 1 min up to ~6.5 h, 5 min up to ~33 h,
 * 15 min up to ~4 days, then 1 h, 3 h, 6 h and 1 day. The server picks it; clients cannot ask for
 * finer buckets over long ranges.
 */
export function chooseBucketS(fromMs: number, toMs: number): number {
  const span = Math.max(0, toMs - fromMs);
  for (const s of BUCKET_SIZES_S) if (span / (s * 1000) <= MAX_POINTS) return s;
  return 86_400;
}

/** Bucket starts covering [from, to), aligned to the epoch so a refresh keeps the same buckets. */
export function bucketStarts(fromMs: number, toMs: number, bucketS: number): number[] {
  const step = bucketS * 1000;
  const out: number[] = [];
  for (let t = Math.floor(fromMs / step) * step; t < toMs; t += step) out.push(t);
  return out;
}

/**
 * The index of a series' last bucket when it ends after `asOf` (it is still filling, or a custom
 * range's end cuts it), else null. A count there is partial: drawn like the others it reads as a
 * sudden drop in traffic. The width is the series' step (its buckets are contiguous: bucketStarts),
 * so a lone point is never marked.
 */
export function fillingBucket(starts: readonly string[], asOf: number): number | null {
  if (starts.length < 2) return null;
  const last = Date.parse(starts[starts.length - 1]!);
  const step = last - Date.parse(starts[starts.length - 2]!);
  return step > 0 && last + step > asOf ? starts.length - 1 : null;
}

/** Latency tiers (latency_rollups granularities) and their length in seconds. */
export const TIER_S = { minute: 60, hour: 3600 } as const;
export type Tier = keyof typeof TIER_S;

/** The coarsest tier whose rows fit whole in a chart bucket: hours for buckets of whole hours. */
export function tierFor(bucketS: number): Tier {
  return bucketS % TIER_S.hour === 0 ? 'hour' : 'minute';
}
