import { hostname } from 'node:os';
import type { Db } from '@/db/client';
import {
  type ClaimedEvent,
  claimEvents,
  completeEvent,
  failEvent,
  recordAttempt,
  releaseEvents,
} from '@/db/queries/queue';
import { parseExactJson } from '@/lib/json';
import { log } from '@/lib/log';
import { metrics } from '@/lib/observability/metrics';
import { backoffMs } from './backoff';
import { classify, describeError, LeaseLostError } from './errors';
import { handlerFor } from './handlers';
import type { HandlerContext, HandlerEvent } from './handlers/types';

export type WorkerOptions = {
  concurrency: number;
  maxAttempts: number;
  backoffMs: number;
  leaseMs?: number;
  pollMs?: number;
  id?: string;
  context: () => HandlerContext;
};

export type WorkerState = 'stopped' | 'running' | 'paused' | 'stopping';

/** Claims due events from the inbox and runs their handlers; see DESIGN.md "The flow of one delivery". */
export class Worker {
  readonly id: string;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private active = new Map<number, Promise<void>>();
  private state: WorkerState = 'stopped';
  private wake: (() => void) | null = null;
  private loopDone: Promise<void> | null = null;
  processed = 0;

  constructor(
    private readonly db: () => Promise<Db>,
    private readonly opts: WorkerOptions,
  ) {
    this.id = opts.id ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.pollMs = opts.pollMs ?? 500;
  }

  get status(): WorkerState {
    return this.state;
  }

  start() {
    if (this.state !== 'stopped') return;
    this.state = 'running';
    this.loopDone = this.loop();
    log.info({ worker: this.id, concurrency: this.opts.concurrency }, 'worker started');
  }

  /** Wakes the loop now (a new event was committed) instead of waiting for the next poll. */
  nudge() {
    this.wake?.();
  }

  /** Stops claiming, waits up to `graceMs` for running handlers, then releases whatever is left. */
  async stop(graceMs = 10_000) {
    if (this.state === 'stopped') return;
    this.state = 'stopping';
    this.wake?.();
    await this.loopDone;
    const timeout = new Promise((r) => setTimeout(r, graceMs).unref());
    await Promise.race([Promise.allSettled([...this.active.values()]), timeout]);
    const left = [...this.active.keys()];
    if (left.length > 0) {
      await releaseEvents(await this.db(), this.id, left).catch((err) =>
        log.warn(
          { err: (err as Error).message },
          'worker: could not release events; their leases will expire',
        ),
      );
    }
    this.state = 'stopped';
    log.info({ worker: this.id, released: left.length }, 'worker stopped');
  }

  private async loop() {
    let errorDelay = 0;
    while (this.state === 'running' || this.state === 'paused') {
      const free = this.opts.concurrency - this.active.size;
      // Claim in batches: while others still run, wait until half the slots are free, so one claim
      // query serves several events instead of one query per finished event.
      if (this.active.size > 0 && free < Math.ceil(this.opts.concurrency / 2)) {
        await this.sleep(this.pollMs);
        continue;
      }
      let claimed: ClaimedEvent[] = [];
      if (free > 0) {
        try {
          claimed = await claimEvents(await this.db(), this.id, free, this.leaseMs);
          if (this.state === 'paused') log.info({ worker: this.id }, 'worker resumed');
          this.state = this.state === 'paused' ? 'running' : this.state;
          errorDelay = 0;
        } catch (err) {
          if (this.state === 'running')
            log.warn({ worker: this.id, err: (err as Error).message }, 'worker paused: cannot claim');
          if (this.state === 'running') this.state = 'paused';
          errorDelay = Math.min(Math.max(250, errorDelay * 2), 5000);
          await this.sleep(errorDelay);
          continue;
        }
        for (const e of claimed) {
          const run = this.run(e).finally(() => {
            this.active.delete(e.id);
            this.wake?.();
          });
          this.active.set(e.id, run);
        }
      }
      // A full batch means more may be due: go again at once; otherwise wait for a nudge or the poll.
      if (claimed.length === 0 || claimed.length < free) await this.sleep(this.pollMs);
    }
  }

  private sleep(ms: number) {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }

  private async run(e: ClaimedEvent) {
    const startedAt = new Date();
    const t0 = performance.now();
    const { name, handler } = handlerFor(e.provider, e.eventType);
    const attempt = { eventId: e.id, attempt: e.attempts, worker: this.id, startedAt };
    const db = await this.db();
    try {
      const event: HandlerEvent = {
        id: e.id,
        deliveryId: e.deliveryId,
        eventType: e.eventType,
        data: payloadData(e.payloadText),
        providerTs: e.providerTs,
      };
      const value = handler.parse(event.data);
      await handler.notify?.(value, event, this.opts.context());
      const outcome = await db.transaction(async (tx) => {
        const applied = await handler.apply(tx, value, event);
        const result = applied === 'skipped_stale' ? 'skipped_stale' : 'success';
        if (!(await completeEvent(tx, { ...attempt, durationMs: performance.now() - t0 }, name, result))) {
          throw new LeaseLostError(`lease on event ${e.id} expired before completion`);
        }
        return result;
      });
      this.processed++;
      metrics.workerAttempts.inc({ result: outcome, event_type: e.eventType });
    } catch (err) {
      await this.fail(e, attempt, t0, err);
    }
  }

  private async fail(
    e: ClaimedEvent,
    attempt: { eventId: number; attempt: number; worker: string; startedAt: Date },
    t0: number,
    err: unknown,
  ) {
    const kind = classify(err);
    const error = describeError(err);
    const durationMs = performance.now() - t0;
    metrics.workerAttempts.inc({ result: kind, event_type: e.eventType });
    try {
      const db = await this.db();
      if (kind === 'lease_lost') {
        await recordAttempt(db, { ...attempt, durationMs, result: 'lease_lost', error });
        return;
      }
      const exhausted = e.attempts >= this.opts.maxAttempts;
      const retryAt =
        kind === 'transient' && !exhausted
          ? new Date(Date.now() + backoffMs(e.attempts, this.opts.backoffMs))
          : null;
      const held = await failEvent(db, { ...attempt, durationMs, result: kind, error }, retryAt);
      log.warn(
        { event_id: e.id, event_type: e.eventType, attempt: e.attempts, kind, error, retry_at: retryAt },
        held && !retryAt ? 'handler failed: dead letter' : 'handler failed',
      );
    } catch (writeErr) {
      // The database is unreachable: the lease will expire and the event comes back by itself.
      log.warn(
        { event_id: e.id, err: (writeErr as Error).message },
        'worker: could not record failure; lease will expire',
      );
    }
  }
}

/** The envelope's `data` object (the receiver stored the envelope as sent, validated). */
function payloadData(text: string): Record<string, unknown> {
  const payload = parseExactJson(text) as { data?: unknown };
  const data = payload?.data;
  return data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
}
