import type { Db } from '@/db/client';
import {
  finishRun,
  type RunProgress,
  type RunTrigger,
  receiptsForDeliveryIds,
  reportRun,
  startRun,
  upsertReconciled,
} from '@/db/queries/reconciliation';
import { AppError } from '@/lib/errors';
import { log } from '@/lib/log';
import type { ManagementClient } from '@/lib/providers/types';
import { ourSourceOfUrl } from '@/lib/receiver/stack';
import { type DeliveryRules, reconcile } from './classify';
import { knownFromRead, readDeliveryLog } from './log-read';

/**
 * A provider whose delivery log can be read: its registry name, its rules, a management client, and
 * the app's public URL (APP_PUBLIC_URL), which tells our receivers from another deployment's.
 */
export type LogSource = {
  provider: string;
  rules: DeliveryRules;
  client: ManagementClient;
  appUrl: string | null;
};

export type RunnerOptions = {
  /** Least time between two requests to a provider: 500 ms keeps one runner under 120 per minute. */
  minIntervalMs: number;
  /**
   * Pages read per webhook and run, newest first. With `maxFilteredPages` twice, the bound on the
   * requests one run makes per webhook (40 + 10 + 10: half a minute of the 120 a minute at 500 ms).
   */
  maxPages: number;
  /**
   * When those end inside the window (a busy webhook): pages of its pending and of its failed
   * attempts read besides, each (lib/reconciliation/log-read.ts).
   */
  maxFilteredPages: number;
  /** Log rows older than this are not read: past the provider's retry window nothing changes. */
  windowMs: number;
  /** Longest 429 wait honoured, and how many in a row, before the run gives up on a webhook. */
  maxRetryAfterMs: number;
  max429InARow: number;
  /** How long the lease lasts without a progress report. */
  leaseMs: number;
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
};

export const DEFAULT_RUNNER: RunnerOptions = {
  minIntervalMs: 500,
  maxPages: 40,
  maxFilteredPages: 10,
  windowMs: 2 * 3_600_000,
  maxRetryAfterMs: 120_000,
  max429InARow: 5,
  leaseMs: 5 * 60_000,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms).unref()),
  now: () => new Date(),
};

export type RunResult =
  | { started: false }
  | ({ started: true; runId: number; delivered: number; error: string | null } & RunProgress);

/**
 * One reconciliation: takes the lease (or returns `started: false` when another runner holds it),
 * then runs it to the end (`executeRun`).
 */
export async function runReconciliation(
  db: Db,
  sources: readonly LogSource[],
  opts: { trigger: RunTrigger; actor: string | null },
  runner: RunnerOptions = DEFAULT_RUNNER,
): Promise<RunResult> {
  const runId = await startRun(db, { trigger: opts.trigger, actor: opts.actor, leaseMs: runner.leaseMs });
  if (runId === null) return { started: false };
  return executeRun(db, runId, sources, runner);
}

/**
 * Reads each webhook's delivery log page by page within the rate limit, matches it to our receipts
 * and stores the classes, under the lease `runId` holds. A failing webhook is recorded as the run's
 * error; the others still run.
 */
export async function executeRun(
  db: Db,
  runId: number,
  sources: readonly LogSource[],
  runner: RunnerOptions = DEFAULT_RUNNER,
): Promise<RunResult & { started: true }> {
  const progress: RunProgress = { webhooks: 0, pages: 0, providerRows: 0, rateLimited: 0 };
  const errors: string[] = [];
  let stored = 0;
  const paced = pacer(runner);
  // The lease is renewed before every request to the provider (a run waiting out 429s outlived it
  // and went on beside the run that took over); a run that lost it stops there.
  const pace = async () => {
    await paced();
    if (!(await reportRun(db, runId, progress, runner.leaseMs))) throw new RunLeaseLost();
  };
  try {
    for (const src of sources) {
      stored += await reconcileSource(db, src, pace, runner, progress, errors);
    }
  } catch (err) {
    if (!(err instanceof RunLeaseLost)) throw err;
    log.warn({ run: runId }, 'reconciliation: the run lost its lease to another one; stopped');
    return { started: true, runId, delivered: stored, error: err.message, ...progress };
  }
  const error = errors.length ? errors.join('; ').slice(0, 2000) : null;
  await finishRun(db, runId, { ...progress, error });
  return { started: true, runId, delivered: stored, error, ...progress };
}

class RunLeaseLost extends Error {
  override name = 'RunLeaseLost';
  override message = 'the run lost its lease (another run took over)';
}

/** One provider's webhooks, each read and stored; a failing one is recorded in `errors`. */
async function reconcileSource(
  db: Db,
  src: LogSource,
  pace: () => Promise<void>,
  runner: RunnerOptions,
  progress: RunProgress,
  errors: string[],
): Promise<number> {
  let stored = 0;
  let hooks: Awaited<ReturnType<ManagementClient['listWebhooks']>>;
  try {
    hooks = await withRateLimit(() => src.client.listWebhooks(), pace, runner, progress);
  } catch (err) {
    if (err instanceof RunLeaseLost) throw err;
    errors.push(`${src.provider}: ${messageOf(err)}`);
    return 0;
  }
  for (const hook of hooks) {
    try {
      const read = await readDeliveryLog(
        async (page, status) => {
          const got = await withRateLimit(
            () => src.client.deliveryLog(hook.id, page, status),
            pace,
            runner,
            progress,
          );
          progress.pages++;
          progress.providerRows += got.entries.length;
          return got;
        },
        {
          since: runner.now().getTime() - runner.windowMs,
          pages: runner.maxPages,
          filteredPages: runner.maxFilteredPages,
        },
      );
      const ids = [...new Set(read.entries.flatMap((e) => (e.deliveryId ? [e.deliveryId] : [])))];
      const ours = await receiptsForDeliveryIds(db, src.provider, ids);
      const finalAttempt = src.rules.retryDelaysMs.length + 1;
      const rows = reconcile(
        { provider: src.provider, webhookId: hook.id, source: ourSourceOfUrl(hook.url, src.appUrl) },
        read.entries,
        ours,
        src.rules,
        runner.now(),
      ).filter((r) => knownFromRead(r, read, finalAttempt));
      await upsertReconciled(db, rows);
      stored += rows.length;
      progress.webhooks++;
    } catch (err) {
      if (err instanceof RunLeaseLost) throw err;
      errors.push(`${src.provider} webhook ${hook.id}: ${messageOf(err)}`);
    }
  }
  return stored;
}

/** Waits out a 429 for as long as the provider asks (bounded), then asks again. */
async function withRateLimit<T>(
  call: () => Promise<T>,
  pace: () => Promise<void>,
  runner: RunnerOptions,
  progress: RunProgress,
): Promise<T> {
  for (let tries = 0; ; tries++) {
    await pace();
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'rate_limited' || tries >= runner.max429InARow)
        throw err;
      const waitMs = (err.extra.retryAfterS ?? 60) * 1000;
      if (waitMs > runner.maxRetryAfterMs) throw err;
      // Held back by our own budget (the share kept for operators and the watchdog) is no 429.
      if (!err.extra.held) progress.rateLimited++;
      await runner.sleep(waitMs);
    }
  }
}

function pacer(runner: RunnerOptions): () => Promise<void> {
  let last = Number.NEGATIVE_INFINITY;
  return async () => {
    const wait = last + runner.minIntervalMs - performance.now();
    if (wait > 0) await runner.sleep(wait);
    last = performance.now();
  };
}

function messageOf(err: unknown): string {
  if (err instanceof AppError) return err.message;
  log.warn({ err }, 'reconciliation: unexpected error');
  return 'internal error (see the log)';
}
