/** A type needs this many active minutes in the learning window to count as one that flows. */
export const MIN_ACTIVE_MINUTES = 20;
export const LEARNING_WINDOW_MS = 24 * 3_600_000;

export type Silence = { quietMs: number; limitMs: number; usualGapMs: number; activeMinutes: number };

/**
 * Whether an event type has gone quiet for longer than it usually does. `minutes` are the starts of
 * the minutes in which it arrived (sorted). The limit is the larger of `floorMs`, `factor` × the 95th
 * percentile gap between active minutes, and the longest gap seen: a type that pauses every night
 * for hours learns that, and a rare type (too few active minutes) is never called silent.
 */
export function silenceOf(
  minutes: readonly number[],
  now: number,
  factor: number,
  floorMs: number,
): Silence | null {
  if (minutes.length < MIN_ACTIVE_MINUTES) return null;
  const gaps: number[] = [];
  for (let i = 1; i < minutes.length; i++) gaps.push(minutes[i]! - minutes[i - 1]!);
  gaps.sort((a, b) => a - b);
  const p95 = gaps[Math.min(gaps.length - 1, Math.ceil(0.95 * gaps.length) - 1)] ?? 60_000;
  const longest = gaps[gaps.length - 1] ?? 60_000;
  const limitMs = Math.max(floorMs, factor * p95, longest);
  // The last active minute ends a minute after it starts.
  const quietMs = now - (minutes[minutes.length - 1]! + 60_000);
  return quietMs > limitMs ? { quietMs, limitMs, usualGapMs: p95, activeMinutes: minutes.length } : null;
}
