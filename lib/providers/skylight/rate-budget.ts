import { createHash } from 'node:crypto';
import type { ApiUse } from '../types';

/** §5.5: 120 requests per one-minute window, per API key; the headers say what is left of it. */
const DEFAULT_LIMIT = 120;
const WINDOW_MS = 60_000;
/** Past the reset before a new window is counted on: the header is in whole seconds. */
const RESET_MARGIN_MS = 250;

/**
 * The share of the key's limit each use leaves untouched for the uses above it. Everything this app
 * asks SkyLight spends one budget: an operator's toggle, the watchdog's log reads, a reconciliation
 * run's pages. Unshared, a run spent the minute and the operator's emergency disable met a 429, and
 * the watchdog could not look while events ran out of retries.
 */
const KEPT_FROM: Record<ApiUse, number> = { operator: 0, watchdog: 1 / 6, bulk: 5 / 12 };
const KEPT_FOR: Record<ApiUse, string | null> = {
  operator: null,
  watchdog: "operators' actions",
  bulk: "the watchdog and operators' actions",
};

/** A request held back: when the window resets, and for whom the rest is kept (null: spent). */
export type Hold = { retryAfterS: number; keptFor: string | null };

/**
 * What is left of one API key's rate-limit window, as the provider's `X-RateLimit-*` headers last said,
 * less the requests sent since and not yet answered. Other replicas spend the same key: the headers are
 * how their requests are seen, so every answer sets the count to the provider's own. A window not yet
 * seen (at start, after a reset) counts as whole: the shares hold from the first request.
 */
export class RateBudget {
  private limit = DEFAULT_LIMIT;
  private remaining = DEFAULT_LIMIT;
  /** When the current window ends, on our clock; 0: no window seen yet. */
  private resetAt = 0;
  private inFlight = 0;
  /** Requests waiting for room: woken by every answer, which may free some. */
  private readonly waiters = new Set<() => void>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Waits (at most `maxWaitMs`) until `use` may send one request, and counts it as sent (null). Past
   * that wait, the hold instead: when to come back and for whom the rest is kept; nothing is sent.
   * A value, not a thrown error: the budget is shared across Next's bundles (below), and an error
   * class from another bundle is not the caller's AppError.
   */
  async take(use: ApiUse, maxWaitMs: number): Promise<Hold | null> {
    const deadline = this.now() + maxWaitMs;
    for (;;) {
      const now = this.now();
      this.roll(now);
      if (this.left(use) > 0) {
        this.inFlight++;
        return null;
      }
      // No window seen: only the requests in flight are in the way.
      const untilReset = this.resetAt === 0 ? Number.POSITIVE_INFINITY : this.resetAt + RESET_MARGIN_MS - now;
      // Worth waiting when the reset comes within the patience, or an answer in flight may make room.
      const canWait = untilReset <= deadline - now || this.inFlight > 0;
      if (!canWait || now >= deadline) {
        return {
          retryAfterS: Math.max(1, Math.ceil((Number.isFinite(untilReset) ? untilReset : WINDOW_MS) / 1000)),
          keptFor: KEPT_FOR[use],
        };
      }
      await this.wait(Math.min(untilReset, deadline - now));
    }
  }

  /**
   * Records the answer to a request `take` let through: its `X-RateLimit-*` headers. `headers` null:
   * no answer (a timeout, a refused connection), its place is free again.
   */
  settle(headers: Headers | null): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (headers) this.observe(headers);
    this.wake();
  }

  /** A 429: nothing left until the wait it asked for is over (one window at most: see `observe`). */
  refused(retryAfterS: number): void {
    this.remaining = 0;
    this.resetAt = this.now() + Math.min(retryAfterS * 1000, WINDOW_MS);
  }

  /** Requests `use` may still send in this window, after what the uses above it keep. */
  left(use: ApiUse): number {
    return this.remaining - this.inFlight - Math.ceil(this.limit * KEPT_FROM[use]);
  }

  private observe(headers: Headers) {
    const remaining = Number(headers.get('x-ratelimit-remaining') ?? Number.NaN);
    if (!Number.isFinite(remaining)) return;
    const now = this.now();
    const limit = Number(headers.get('x-ratelimit-limit'));
    if (Number.isInteger(limit) && limit > 0) this.limit = limit;
    // The reset is a Unix time on the provider's clock (§5.5): measured against its own Date header,
    // so a clock of ours ahead or behind theirs neither opens the window early nor holds it long.
    const reset = Number(headers.get('x-ratelimit-reset')) * 1000;
    const theirNow = Date.parse(headers.get('date') ?? '');
    const ends =
      Number.isFinite(reset) && reset > 0 ? reset - (Number.isFinite(theirNow) ? theirNow : now) : WINDOW_MS;
    const resetAt = now + Math.min(Math.max(ends, 0), WINDOW_MS);
    // Answers arrive out of order: within one window the lowest count is the latest.
    const sameWindow = Math.abs(resetAt - this.resetAt) < 2_000;
    this.remaining = sameWindow ? Math.min(this.remaining, Math.max(0, remaining)) : Math.max(0, remaining);
    this.resetAt = resetAt;
  }

  /** A window over: the next one counts as whole until an answer says otherwise. */
  private roll(now: number) {
    if (this.resetAt !== 0 && now >= this.resetAt + RESET_MARGIN_MS) {
      this.remaining = this.limit;
      this.resetAt = 0;
    }
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      // Not unref'd: a script waiting for room must not exit mid-wait; the wait is the caller's
      // patience at most (5 s by default).
      const timer = setTimeout(done, Math.max(0, ms));
      this.waiters.add(done);
    });
  }

  private wake() {
    for (const done of [...this.waiters]) done();
  }
}

// Next can evaluate this module in more than one bundle (the jobs from instrumentation, the routes):
// the map lives on globalThis so the watchdog, reconciliation and the pages share one budget a key.
// Keys come from the configuration (one per provider account), so it stays a handful long.
const shared = globalThis as { __skylightRateBudgets?: Map<string, RateBudget> };
const budgets = (shared.__skylightRateBudgets ??= new Map());

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
