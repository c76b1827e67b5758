/**
 * Counts failures per key in a sliding window; blocked once `max` failures fall inside it. In
 * memory, per process: with several replicas each allows `max`, which still bounds guessing. At
 * most `maxKeys` keys are kept (the oldest go first), so a flood of new keys cannot grow memory.
 */
export class FailureLimiter {
  private readonly failures = new Map<string, Failure[]>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 10_000,
  ) {}

  /** null when allowed, else the seconds until the oldest failure leaves the window. */
  retryAfterS(key: string): number | null {
    const recent = this.recent(key);
    if (recent.length < this.max) return null;
    const oldest = recent[recent.length - this.max]!.at;
    return Math.max(1, Math.ceil((oldest + this.windowMs - this.now()) / 1000));
  }

  /**
   * Counts a failure against `key`. `tag` names the other side of the attempt (the account, for an
   * address's count), so that a success can take back exactly its own failures with `forgive`.
   */
  fail(key: string, tag = ''): () => void {
    const recent = this.recent(key);
    const failure = { at: this.now(), tag };
    recent.push(failure);
    // Re-inserting moves the key to the end, so the Map's order is oldest activity first.
    this.failures.delete(key);
    this.failures.set(key, recent);
    if (this.failures.size > this.maxKeys) this.sweep();
    // Takes back this one failure (the attempt could not be checked at all).
    return () => {
      const list = this.failures.get(key);
      const i = list?.indexOf(failure) ?? -1;
      if (i >= 0) list!.splice(i, 1);
    };
  }

  /** Takes back `key`'s failures tagged `tag`; the others stay counted. */
  forgive(key: string, tag: string): void {
    const left = this.recent(key).filter((f) => f.tag !== tag);
    if (left.length === 0) this.failures.delete(key);
    else this.failures.set(key, left);
  }

  private recent(key: string): Failure[] {
    const since = this.now() - this.windowMs;
    return (this.failures.get(key) ?? []).filter((f) => f.at > since);
  }

  private sweep() {
    for (const key of [...this.failures.keys()]) {
      const recent = this.recent(key);
      if (recent.length === 0) this.failures.delete(key);
      else this.failures.set(key, recent);
    }
    for (const key of this.failures.keys()) {
      if (this.failures.size <= this.maxKeys) break;
      this.failures.delete(key);
    }
  }
  get size() {
    return this.failures.size;
  }
}

type Failure = { at: number; tag: string };

/** Failures per client address: one address cannot keep guessing. */
export const LOGIN_MAX_FAILURES_PER_CLIENT = 5;
/**
 * Failures per account from all addresses: distributed guessing stops too. Higher than the
 * per-client cap so that one address alone cannot lock anyone else's account (it is blocked first).
 */
export const LOGIN_MAX_FAILURES_PER_ACCOUNT = 20;
export const LOGIN_WINDOW_MS = 15 * 60_000;

type Limiters = { perClient: FailureLimiter; perAccount: FailureLimiter; blocksAudited: FailureLimiter };
const g = globalThis as { __skylightLoginLimiters?: Limiters };

/** The process-wide login limiters. There is no global cap: it would let anyone lock everyone out. */
export function loginLimiters(): Limiters {
  g.__skylightLoginLimiters ??= {
    perClient: new FailureLimiter(LOGIN_MAX_FAILURES_PER_CLIENT, LOGIN_WINDOW_MS),
    perAccount: new FailureLimiter(LOGIN_MAX_FAILURES_PER_ACCOUNT, LOGIN_WINDOW_MS),
    blocksAudited: new FailureLimiter(1, LOGIN_WINDOW_MS),
  };
  return g.__skylightLoginLimiters;
}
