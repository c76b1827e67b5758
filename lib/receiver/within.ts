/** Longest wait for a source or its secrets: under the write's 5 s deadline, far under a provider's 30 s. */
export const LOOKUP_DEADLINE_MS = 3_000;
/**
 * A refused signature's second look waits up to 10 s for a rotation in flight (lib/sources/directory.ts,
 * rotationWaitMs): this bounds it whatever the database does, still under a provider's 30 s.
 */
export const RECHECK_DEADLINE_MS = 15_000;

/**
 * `work`, or a rejection after `ms`: the work goes on, its answer is dropped. A delivery waiting on
 * a database that does not answer (a full pool, a partition) is told 503 in seconds, and does not
 * hold its body in memory until the provider gives up on it.
 */
export function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
