import { createHash } from 'node:crypto';
import { AppError } from '@/lib/errors';
import type { ApiUse } from '../types';

/** §5.5: 120 requests per one-minute window, per API key; the headers say what is left of it. */
const DEFAULT_LIMIT = 120;
const WINDOW_MS = 60_000;

/**
 * The share of the key's limit each use leaves untouched for the uses above it. Everything this app
 * asks SkyLight spends one budget: an operator's toggle, the watchdog's log reads, a reconciliation
 * run's pages. Unshared, a run spent the minute and the operator's emergency disable met a 429, and
 * the watchdog could not look while events ran out of retries.
 */
const KEPT_FROM: Record<ApiUse, number> = { operator: 0, watchdog: 1 / 6, bulk: 5 / 12 };
const KEPT_FOR: Record<ApiUse, string> = {
  operator: '',
  watchdog: "operators' actions",
  bulk: "the watchdog and operators' actions",
};

/**
 * What is left of one API key's rate-limit window, as the provider's `X-RateLimit-*` headers last said,
 * less the requests sent since and not yet answered. Other replicas spend the same key: the headers are
 * how their requests are seen, so every answer resets the count to the provider's own.
 */
export class RateBudget {
  private limit = DEFAULT_LIMIT;
  /** null: no answer in the current window yet, nothing known to hold back. */
  private remaining: number | null = null;
  private resetAt = 0;
  private inFlight = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Waits (at most `maxWaitMs`) until `use` may send one request, and counts it as sent. Past that
   * wait, a `rate_limited` error saying when to come back, without spending anything at the provider.
   */
  async take(use: ApiUse, maxWaitMs: number, what: string): Promise<void> {
    const deadline = this.now() + maxWaitMs;
    for (;;) {
      const now = this.now();
      if (this.hasRoom(use, now)) {
        this.inFlight++;
        return;
      }
      // A little past the reset: the header is in whole seconds and the clocks differ.
      const waitMs = this.resetAt - now + 250;
      if (now + waitMs > deadline) {
        const retryAfterS = Math.max(1, Math.ceil(waitMs / 1000));
        const why =
          use === 'operator'
            ? 'the rate limit of this API key is spent'
            : `the rest of this API key's rate limit is kept for ${KEPT_FOR[use]}`;
        throw new AppError('rate_limited', `SkyLight ${what} held back: ${why}; retry in ${retryAfterS} s`, {
          retryAfterS,
        });
      }
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }

  /**
   * Records the answer to a request `take` let through: its `X-RateLimit-*` headers. `headers` null:
   * no answer (a timeout, a refused connection).
   */
  settle(headers: Headers | null): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    const now = this.now();
    if (!headers) return;
    const limit = Number(headers.get('x-ratelimit-limit'));
    const remaining = Number(headers.get('x-ratelimit-remaining'));
    const reset = Number(headers.get('x-ratelimit-reset'));
    if (headers.get('x-ratelimit-remaining') === null || !Number.isFinite(remaining)) return;
    if (Number.isInteger(limit) && limit > 0) this.limit = limit;
    this.remaining = Math.max(0, remaining);
    // Unix seconds (§5.5). A reset more than a window away is our clock behind theirs, not a longer wait.
    this.resetAt =
      Number.isFinite(reset) && reset > 0 ? Math.min(reset * 1000, now + WINDOW_MS) : now + WINDOW_MS;
  }

  /** A 429: nothing left until the wait it asked for is over (whatever its headers said). */
  refused(retryAfterS: number): void {
    this.remaining = 0;
    this.resetAt = this.now() + retryAfterS * 1000;
  }

  /** Requests left for `use` now, after what the uses above it keep; for tests and the health page. */
  left(use: ApiUse): number | null {
    const now = this.now();
    if (this.remaining === null || now >= this.resetAt) return null;
    return this.remaining - this.inFlight - Math.ceil(this.limit * KEPT_FROM[use]);
  }

  private hasRoom(use: ApiUse, now: number): boolean {
    if (this.remaining !== null && now >= this.resetAt) this.remaining = null;
    const left = this.left(use);
    return left === null || left > 0;
  }
}

// Keys come from the configuration (one per provider account), so this map stays a handful long.
const budgets = new Map<string, RateBudget>();

/** The one budget of this API key at this base URL, shared by every client in the process. */
export function budgetFor(baseUrl: string, apiKey: string): RateBudget {
  const id = createHash('sha256').update(`${baseUrl}\0${apiKey}`).digest('base64url');
  let budget = budgets.get(id);
  if (!budget) {
    budget = new RateBudget();
    budgets.set(id, budget);
  }
  return budget;
}
