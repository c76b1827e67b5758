/**
 * Counts failures per key in a sliding window; blocked once `max` failures fall inside it. In
 * memory, per process: with several replicas each allows `max`, which still bounds guessing.
 */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** null when allowed, else the seconds until the oldest failure leaves the window. */
  retryAfterS(key: string): number | null {
    const recent = this.recent(key);
    if (recent.length < this.max) return null;
    const oldest = recent[recent.length - this.max]!;
    return Math.max(1, Math.ceil((oldest + this.windowMs - this.now()) / 1000));
  }

  fail(key: string): void {
    const recent = this.recent(key);
    recent.push(this.now());
    this.failures.set(key, recent);
    if (this.failures.size > 10_000) this.sweep();
  }

  reset(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    return (this.failures.get(key) ?? []).filter((t) => t > since);
  }

  private sweep() {
    for (const key of [...this.failures.keys()]) {
      const recent = this.recent(key);
      if (recent.length === 0) this.failures.delete(key);
      else this.failures.set(key, recent);
    }
  }
}

export const LOGIN_MAX_FAILURES = 5;
/** X-Forwarded-For can be forged when no proxy overwrites it, so all addresses together get a cap too. */
export const LOGIN_MAX_FAILURES_ALL = 50;
export const LOGIN_WINDOW_MS = 15 * 60_000;

const g = globalThis as { __skylightLoginLimiters?: { perIp: FailureLimiter; all: FailureLimiter } };
/** The process-wide login limiters: 5 failures per IP and 50 in all per 15 minutes. */
export function loginLimiters() {
  g.__skylightLoginLimiters ??= {
    perIp: new FailureLimiter(LOGIN_MAX_FAILURES, LOGIN_WINDOW_MS),
    all: new FailureLimiter(LOGIN_MAX_FAILURES_ALL, LOGIN_WINDOW_MS),
  };
  return g.__skylightLoginLimiters;
}
