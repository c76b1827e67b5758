export const BACKOFF_CAP_MS = 60 * 60_000;

/**
 * Delay before retry number `attempt` (1 = the retry after the first failure): base · 2^(attempt−1),
 * capped, with "equal jitter" (half fixed, half random) so a burst of failures does not retry in lockstep.
 */
export function backoffMs(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const exp = Math.min(BACKOFF_CAP_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}
