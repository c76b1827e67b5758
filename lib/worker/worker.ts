import { hostname } from 'node:os';
import type { Db, Tx } from '@/db/client';
import { errorMessage } from '@/db/errors';
import {
  type ClaimedEvent,
  claimEvents,
  completeEvent,
  completeEvents,
  failEvent,
  lockHeldLeases,
  recordAttempt,
  releaseEvents,
} from '@/db/queries/queue';
import { parseExactJson } from '@/lib/json';
import { log } from '@/lib/log';
import { metrics } from '@/lib/observability/metrics';
import { backoffMs } from './backoff';
import { classify, describeError, LeaseLostError, PermanentError } from './errors';
import { handlerFor } from './handlers';
import type { HandlerContext, HandlerEvent } from './handlers/types';

export type WorkerOptions = {
  /** Transactions in flight at once (WORKER_CONCURRENCY). */
  concurrency: number;
  /** Most events one transaction completes (WORKER_BATCH_SIZE, see runBatch); 1: no batching. */
  batchSize?: number;
  maxAttempts: number;
  backoffMs: number;
  leaseMs?: number;
  pollMs?: number;
  /** After a claim that was not full, wait this long before the next (WORKER_GATHER_MS); 0: claim at once. */
  gatherMs?: number;
  id?: string;
  context: () => HandlerContext;
};

export type WorkerState = 'stopped' | 'running' | 'paused' | 'stopping';

/** An event whose handler parsed it and ran its notification: what is left is its transaction. */
type Prepared = {
  e: ClaimedEvent;
  name: string;
  handler: ReturnType<typeof handlerFor>['handler'];
  value: unknown;
  event: HandlerEvent;
  attempt: { eventId: number; attempt: number; worker: string; startedAt: Date };
  t0: number;
};

/**
 * One COMMIT and one completion statement per batch instead of per event lifts the drain rate many
 * times over (BENCHMARKS.md, issue #19). A crash costs the events it interrupts no attempt (see
 * claimEvents), so a batch is as safe as a single event.
 */
const DEFAULT_BATCH = 16;

/**
 * Claims of one event that may end without a result before it is dead-lettered unrun: a handler
 * that outlives its lease or an event that kills the worker would otherwise come back for ever.
 * Each costs a lease (30 s) or a restart, so five is minutes of a crash loop, not hours.
 */
export const MAX_INTERRUPTIONS = 5;

/** A stopped worker's late batch asked for the database (see Worker.db). */
class WorkerAbandonedError extends Error {
  override name = 'WorkerAbandonedError';
  override message = 'the worker was stopped: its events were given back';
}

/** Claims due events from the inbox and runs their handlers; see DESIGN.md "The flow of one delivery". */
export class Worker {
  readonly id: string;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly batchSize: number;
  /** Running batches, by a batch number. */
  private active = new Map<number, Promise<void>>();
  /** Events claimed and not finished yet (released on stop). */
  private held = new Set<number>();
  /** Set when stop() gives back what is still held after its grace. */
  private abandoned = false;
  private batches = 0;
  private state: WorkerState = 'stopped';
  /** Ends the current sleep; null while the loop is not sleeping. */
  private wake: (() => void) | null = null;
  /**
   * A wake-up that came while the loop was not sleeping (claiming, gathering): the next sleep returns
   * at once. Without it a nudge during a claim was lost (its event waited for the poll), and so was a
   * stop, which then waited a whole poll interval before the loop saw it.
   */
  private wakePending = false;
  /** The last claim took all it asked for: more may be due. */
  private lastClaimFull = false;
  /** An event claimed alone (see claimEvents) while it runs: nothing else is claimed meanwhile. */
  private alone: Promise<void> | null = null;
  private loopDone: Promise<void> | null = null;
  processed = 0;

  constructor(
    private readonly openDb: () => Promise<Db>,
    private readonly opts: WorkerOptions,
  ) {
    this.id = opts.id ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.pollMs = opts.pollMs ?? 500;
    this.batchSize = Math.max(1, opts.batchSize ?? DEFAULT_BATCH);
  }

  get status(): WorkerState {
    return this.state;
  }

  start() {
    if (this.state !== 'stopped') return;
    this.state = 'running';
    this.abandoned = false;
    this.loopDone = this.loop();
    log.info({ worker: this.id, concurrency: this.opts.concurrency }, 'worker started');
  }

  /** Wakes the loop now (a new event was committed) instead of waiting for the next poll. */
  nudge() {
    this.poke();
  }

  private poke() {
    if (this.wake) this.wake();
    else this.wakePending = true;
  }

  /** Stops claiming, waits up to `graceMs` for running handlers, then releases whatever is left. */
  async stop(graceMs = 10_000) {
    if (this.state === 'stopped') return;
    this.state = 'stopping';
    this.poke();
    await this.loopDone;
    const timeout = new Promise((r) => setTimeout(r, graceMs).unref());
    await Promise.race([Promise.allSettled([...this.active.values()]), timeout]);
    // Past the grace the held events are given back: no lane may start another of its batches (their
    // notifications would go out for events another worker may be running by then).
    this.abandoned = true;
    const left = [...this.held];
    if (left.length > 0) {
      await releaseEvents(await this.openDb(), this.id, left).catch((err) =>
        log.warn({ err: errorMessage(err) }, 'worker: could not release events; their leases will expire'),
      );
    }
    this.state = 'stopped';
    log.info({ worker: this.id, released: left.length }, 'worker stopped');
  }

  /**
   * The database, for anything but the stop's own release. Past the stop's grace a batch that was
   * still running touches it no more: its events were given back (a lost lease, nothing to record),
   * and the process closes the database next, which a late call would open again.
   */
  private async db(): Promise<Db> {
    if (this.abandoned) throw new WorkerAbandonedError();
    return this.openDb();
  }

  /** The database refused the worker: health reports it paused until a claim succeeds. */
  private pause(what: 'claim' | 'record', err: unknown) {
    if (this.state !== 'running') return;
    log.warn({ worker: this.id, err: errorMessage(err) }, `worker paused: cannot ${what}`);
    this.state = 'paused';
  }

  private async loop() {
    let errorDelay = 0;
    while (this.state === 'running' || this.state === 'paused') {
      if (this.alone) {
        await this.sleep(this.pollMs);
        continue;
      }
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
          // After a claim that emptied the queue, what arrives next comes one delivery at a time: a
          // moment's wait lets one claim and one completion take several (bench/levers.md). Nudges
          // during the wait do not cut it short; a full claim is followed at once.
          if (this.opts.gatherMs && !this.lastClaimFull) {
            await new Promise((r) => setTimeout(r, this.opts.gatherMs));
            if (this.status === 'stopping') continue;
          }
          // Up to a batch per free slot; a shallow queue still spreads over the slots (see below).
          claimed = await claimEvents(
            await this.db(),
            this.id,
            free * this.batchSize,
            this.leaseMs,
            this.active.size === 0,
          );
          this.lastClaimFull = claimed.length === free * this.batchSize;
          if (this.state === 'paused') log.info({ worker: this.id }, 'worker resumed');
          this.state = this.state === 'paused' ? 'running' : this.state;
          errorDelay = 0;
        } catch (err) {
          this.pause('claim', err);
          errorDelay = Math.min(Math.max(250, errorDelay * 2), 5000);
          await this.sleep(errorDelay);
          continue;
        }
        const suspect = claimed.length === 1 && claimed[0]!.interruptions > 0 ? claimed[0]! : null;
        if (suspect) {
          this.runAlone(suspect);
          continue;
        }
        for (const lane of lanes(claimed, free)) {
          const n = this.batches++;
          const ids = lane.flat().map((e) => e.id);
          for (const id of ids) this.held.add(id);
          const run = (async () => {
            for (const batch of lane) {
              if (this.abandoned) break;
              await this.runBatch(batch);
            }
          })().finally(() => {
            for (const id of ids) this.held.delete(id);
            this.active.delete(n);
            this.poke();
          });
          this.active.set(n, run);
        }
      }
      // A full claim means more may be due: go again at once; otherwise wait for a nudge or the poll.
      if (claimed.length === 0 || claimed.length < free * this.batchSize) await this.sleep(this.pollMs);
    }
  }

  /**
   * An event whose claims ended without a result before (a crash, a lease run out) runs with nothing
   * else of this worker's in flight (it was claimed while nothing ran, and nothing is claimed until it
   * ends): if it is what stops the process, it stops no other event, and only it comes closer to
   * MAX_INTERRUPTIONS.
   */
  private runAlone(e: ClaimedEvent) {
    const n = this.batches++;
    this.held.add(e.id);
    const run = this.runBatch([e]).finally(() => {
      this.held.delete(e.id);
      this.active.delete(n);
      this.alone = null;
      this.poke();
    });
    this.alone = run;
    this.active.set(n, run);
  }

  private sleep(ms: number) {
    if (this.wakePending) {
      this.wakePending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** Parses the event and runs its notification (outside the database: at least once). */
  private async prepare(e: ClaimedEvent): Promise<Prepared> {
    const startedAt = new Date();
    const t0 = performance.now();
    const { name, handler } = handlerFor(e.provider, e.eventType);
    const attempt = { eventId: e.id, attempt: e.attempts, worker: this.id, startedAt };
    const event: HandlerEvent = {
      id: e.id,
      source: e.source,
      deliveryId: e.deliveryId,
      eventType: e.eventType,
      data: {},
      providerTs: e.providerTs,
    };
    const p: Prepared = { e, name, handler, value: undefined, event, attempt, t0 };
    try {
      event.data = payloadData(e.payloadText);
      p.value = handler.parse(event.data);
      await handler.notify?.(p.value, event, this.opts.context());
    } catch (err) {
      throw Object.assign(new PrepareError(), { cause: err, prepared: p });
    }
    return p;
  }

  /** One event's writes and its completion in one transaction (exactly once). */
  private async commitOne(p: Prepared) {
    const db = await this.db();
    try {
      const outcome = await db.transaction(async (tx) => {
        const applied = await p.handler.apply(tx, p.value, p.event);
        const result = applied === 'skipped_stale' ? 'skipped_stale' : 'success';
        const a = { ...p.attempt, durationMs: performance.now() - p.t0 };
        if (!(await completeEvent(tx, a, p.name, result))) {
          throw new LeaseLostError(`lease on event ${p.e.id} expired before completion`);
        }
        return result;
      });
      this.processed++;
      metrics.workerAttempts.inc({ result: outcome, event_type: p.e.eventType });
    } catch (err) {
      await this.fail(p.e, p.attempt, p.t0, err);
    }
  }

  /**
   * A batch of events in ONE transaction: their leases are locked first, every handler's writes
   * follow, and one statement completes them all, so the batch pays one BEGIN/COMMIT (one fsync) and
   * one completion instead of one each per event. All or nothing: a worker that dies mid-batch commits
   * none of it and the leases bring every event back. If anything in the transaction fails (a
   * handler's write, a lease lost), the whole batch rolls back and each event is written again on its
   * own, so one bad event costs its neighbours a retry, never an effect.
   */
  private async runBatch(claimed: ClaimedEvent[]) {
    const es: ClaimedEvent[] = [];
    for (const e of claimed) {
      if (e.interruptions < MAX_INTERRUPTIONS) es.push(e);
      else {
        // Every claim of it ended without a result: it may be what stops the worker. No handler runs.
        const err = new PermanentError(
          `interrupted ${e.interruptions} times: the worker processing this event stopped (crash or lease expiry) before it finished each time`,
        );
        const attempt = { eventId: e.id, attempt: e.attempts, worker: this.id, startedAt: new Date() };
        await this.fail(e, attempt, performance.now(), err);
      }
    }
    const prepared: Prepared[] = [];
    await Promise.all(
      es.map((e) =>
        this.prepare(e).then(
          (p) => void prepared.push(p),
          (err: PrepareError) => this.fail(e, err.prepared.attempt, err.prepared.t0, err.cause),
        ),
      ),
    );
    if (prepared.length === 0) return;
    if (prepared.length === 1) return this.commitOne(prepared[0]!);
    prepared.sort((a, b) => a.e.id - b.e.id);
    try {
      const db = await this.db();
      const outcomes = await db.transaction(async (tx) => {
        // Sent without waiting: the server runs a connection's statements in the order they were
        // sent, so the leases are locked before any handler writes, and a lost lease rolls back what
        // the handlers wrote meanwhile.
        const locking = lockHeldLeases(
          tx,
          this.id,
          prepared.map((p) => p.e.id),
        );
        const applying = applyAll(tx, prepared);
        await settleAll([locking, applying]);
        if ((await locking).size !== prepared.length) throw new BatchAbandoned('a lease was lost');
        const applied = await applying;
        const done = prepared.map((p, i) => ({
          ...p.attempt,
          durationMs: applied[i]!.ms - p.t0,
          handler: p.name,
          result: applied[i]!.result === 'skipped_stale' ? ('skipped_stale' as const) : ('success' as const),
        }));
        if ((await completeEvents(tx, this.id, done)) !== done.length) {
          throw new BatchAbandoned('an event was not completed');
        }
        return done.map((d) => d.result);
      });
      this.processed += prepared.length;
      for (const [i, p] of prepared.entries()) {
        metrics.workerAttempts.inc({ result: outcomes[i]!, event_type: p.e.eventType });
      }
    } catch (err) {
      log.debug({ worker: this.id, size: prepared.length, err: describeError(err) }, 'batch rolled back');
      for (const p of prepared) await this.commitOne(p);
    }
  }

  private async fail(
    e: ClaimedEvent,
    attempt: { eventId: number; attempt: number; worker: string; startedAt: Date },
    t0: number,
    err: unknown,
  ) {
    if (this.abandoned) {
      log.warn(
        { event_id: e.id, worker: this.id, err: describeError(err) },
        'worker stopped: this attempt is not recorded (the event was given back)',
      );
      return;
    }
    const kind = classify(err);
    const error = describeError(err);
    const durationMs = performance.now() - t0;
    metrics.workerAttempts.inc({ result: kind, event_type: e.eventType });
    // The failure is retried while this worker's lease lasts: a database back within it gets the
    // attempt recorded. Given up, the lease expires and the next claim counts an interruption instead,
    // and MAX_INTERRUPTIONS of those dead-letter an event that never crashed anything.
    const until = Date.now() + this.leaseMs - 1000;
    for (let wait = 250; ; wait = Math.min(wait * 2, 4000)) {
      try {
        const db = await this.db();
        if (kind === 'lease_lost') {
          await recordAttempt(db, { ...attempt, durationMs, result: 'lease_lost', error });
          return;
        }
        const exhausted = e.attempts >= this.opts.maxAttempts;
        const retryInMs =
          kind === 'transient' && !exhausted ? backoffMs(e.attempts, this.opts.backoffMs) : null;
        // Written once whatever the retries: it holds the lease, and a write that did commit ended it.
        const held = await failEvent(db, { ...attempt, durationMs, result: kind, error }, retryInMs);
        log.warn(
          {
            event_id: e.id,
            event_type: e.eventType,
            attempt: e.attempts,
            kind,
            error,
            retry_in_ms: retryInMs,
          },
          held && retryInMs === null ? 'handler failed: dead letter' : 'handler failed',
        );
        return;
      } catch (writeErr) {
        // The claim loop may not try the database while this lane holds the slots: say it here, so
        // health reports a worker the database refuses as paused (the next claim resumes it).
        this.pause('record', writeErr);
        if (Date.now() + wait > until || this.state === 'stopping' || this.abandoned) {
          log.warn(
            { event_id: e.id, err: errorMessage(writeErr) },
            'worker: could not record failure; lease will expire',
          );
          return;
        }
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }
}

/**
 * Claimed events spread over the free slots, one lane each, a lane's batches run one after another:
 * four events on four free slots run one per transaction as before batching, 64 run as four batches
 * of 16. (An interrupted event never comes here: it is claimed and run alone, see runAlone.)
 */
export function lanes<E>(claimed: E[], free: number): E[][][] {
  const slots = Math.max(1, Math.min(free, claimed.length));
  // Never larger than the claim gave each slot (free × WORKER_BATCH_SIZE events over free slots).
  const per = Math.max(1, Math.ceil(claimed.length / slots));
  const batches: E[][] = [];
  for (let k = 0; k < claimed.length; k += per) batches.push(claimed.slice(k, k + per));
  const out: E[][][] = Array.from({ length: Math.min(slots, batches.length) }, () => []);
  for (const [i, b] of batches.entries()) out[i % out.length]!.push(b);
  return out;
}

/**
 * The object an event's handler writes: events of different objects commute, so their applies may
 * run in any order. '' (a handler that names none): one after another, in event order.
 */
function writeKey(p: Prepared): string {
  const t = p.handler.target?.(p.value, p.event);
  if (t) return `${t.source}:${t.entity}:${t.id}`;
  const key = p.handler.key?.(p.value);
  return key === undefined ? '' : `${p.event.source}:${key}`;
}

/**
 * Every handler's apply of a batch, in one transaction. The applies of different objects run side by
 * side, so the connection carries their statements in a pipeline: a batch waits for a few round
 * trips instead of one or two per event, which is what kept the inline worker behind a busy receiver
 * (BENCHMARKS.md, issue #19). One object's events still apply one after another, in event order, so
 * the version rule sees them as before. Returns each event's result and when its apply finished.
 */
async function applyAll(tx: Tx, prepared: Prepared[]) {
  const out: Array<{ result: 'applied' | 'skipped_stale'; ms: number }> = new Array(prepared.length);
  const groups = new Map<string, number[]>();
  for (const [i, p] of prepared.entries()) {
    const k = writeKey(p);
    const group = groups.get(k);
    if (group) group.push(i);
    else groups.set(k, [i]);
  }
  await settleAll(
    [...groups.values()].map(async (idx) => {
      for (const i of idx) {
        const p = prepared[i]!;
        out[i] = { result: await p.handler.apply(tx, p.value, p.event), ms: performance.now() };
      }
    }),
  );
  return out;
}

/**
 * Promise.all that waits for every promise before it rejects: a failed statement aborts the
 * transaction, and the rollback must not race the statements still in flight on its connection.
 */
async function settleAll(ps: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(ps)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** A handler refused an event before its transaction (parse or notify); carries how far it got. */
class PrepareError extends Error {
  prepared!: Prepared;
}

/** The batch cannot complete as a whole; its events are written one by one instead. */
class BatchAbandoned extends Error {
  override name = 'BatchAbandoned';
}

/** The envelope's `data` object (the receiver stored the envelope as sent, validated). */
export function payloadData(text: string): Record<string, unknown> {
  const payload = parseExactJson(text) as { data?: unknown };
  const data = payload?.data;
  return data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
}
