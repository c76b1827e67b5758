import type { Db } from '@/db/client';
import { databaseReason, errorMessage, sqlState } from '@/db/errors';
import {
  type AckTime,
  type IngestItem,
  type IngestResult,
  ingestBatch,
  insertAckTimes,
  markAnsweredBeforeCommit,
  valuesRefusal,
} from '@/db/queries/ingest';
import { isContentError, isWriteConflict } from '@/lib/errors';
import { log } from '@/lib/log';

type Pending = {
  item: IngestItem;
  resolve: (r: IngestResult) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout | null;
  /** Set when the deadline passed while the item was in flight: told whether it committed after all. */
  late: ((committed: boolean) => void) | null;
};

/**
 * The write did not commit within the deadline; the caller answers 503 so the provider retries.
 * `committed` says, once known, whether the write committed after all (it was already in flight):
 * then its receipt is corrected to the 503 that was answered, and the caller records no second row.
 */
export class DeadlineError extends Error {
  override name = 'DeadlineError';
  constructor(
    message: string,
    readonly committed: Promise<boolean>,
  ) {
    super(message);
  }
}

export type GroupCommitOptions = {
  /** Most items written in one transaction. */
  maxBatch?: number;
  /** Transactions in flight at once; 1 for PGlite (one connection). */
  maxInFlight?: number;
  /**
   * How long a caller waits for its COMMIT before it is answered 503. A lock held by a migration or a
   * saturated pool must not hold the provider's request until its own 30 s timeout (SkyLight retries
   * far later after a timeout than after a 503).
   */
  deadlineMs?: number;
  /** DEDUPE_FINGERPRINT_HOURS. */
  fingerprintHours?: number;
};

/**
 * Group commit for signed requests: requests that arrive while a transaction is in flight are
 * written together in the next one, so under load many acks share one COMMIT (and one fsync).
 * Every caller is answered only after the transaction holding its rows has committed.
 */
export class GroupCommit {
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private timings: AckTime[] = [];
  private timingsTimer: NodeJS.Timeout | null = null;
  /** The ack-time writes, one after another: drain waits for one already under way too. */
  private timingsWrite: Promise<void> = Promise.resolve();
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly deadlineMs: number;
  private readonly fingerprintHours: number | undefined;

  constructor(
    private readonly db: () => Promise<Db>,
    opts: GroupCommitOptions = {},
  ) {
    this.maxBatch = opts.maxBatch ?? 256;
    this.maxInFlight = opts.maxInFlight ?? 4;
    this.deadlineMs = opts.deadlineMs ?? 5000;
    this.fingerprintHours = opts.fingerprintHours;
  }

  /**
   * Resolves once the item's rows are committed. Rejects with the database's error, or a
   * DeadlineError: an item still queued then is dropped (never written); one already in flight may
   * still commit, which the provider's retry then meets as a duplicate.
   */
  submit(item: IngestItem): Promise<IngestResult> {
    return new Promise((resolve, reject) => {
      const p: Pending = {
        item,
        resolve: (r) => {
          if (p.timer) clearTimeout(p.timer);
          if (!p.late) return resolve(r);
          p.late(true);
          // The receiver always sets receivedAt (the partition key the correction needs).
          if (item.receipt.receivedAt)
            this.answeredBeforeCommit({ id: r.receiptId, receivedAt: item.receipt.receivedAt });
        },
        reject: (e) => {
          if (p.timer) clearTimeout(p.timer);
          if (p.late) p.late(false);
          else reject(e);
        },
        timer: null,
        late: null,
      };
      p.timer = setTimeout(() => {
        p.timer = null;
        const message = `not committed within ${this.deadlineMs} ms`;
        const i = this.queue.indexOf(p);
        if (i >= 0) {
          // Still queued: dropped, never written.
          this.queue.splice(i, 1);
          reject(new DeadlineError(message, Promise.resolve(false)));
          return;
        }
        // In flight: it may still commit.
        reject(new DeadlineError(message, new Promise<boolean>((r) => (p.late = r))));
      }, this.deadlineMs);
      this.queue.push(p);
      this.schedule();
    });
  }

  /**
   * A receipt whose write committed after its caller had answered 503: it gets the answer that was
   * given (the event it created stands; the provider's retry meets it as a duplicate).
   */
  private answeredBeforeCommit(receipt: { id: number; receivedAt: Date }) {
    void this.db()
      .then((db) => markAnsweredBeforeCommit(db, receipt))
      .catch((err) =>
        log.warn(
          { err: errorMessage(err), receipt_id: receipt.id },
          'could not correct a late-committed receipt',
        ),
      );
  }

  /** Records the exact ack time once the answer is ready; written in the background, batched. */
  recordAck(receiptId: number, receivedAt: Date, ackMs: number) {
    this.timings.push({ id: receiptId, receivedAt, ackMs });
    this.timingsTimer ??= setTimeout(() => this.flushTimings(), 250).unref();
  }

  private schedule() {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    // One macrotask of gathering: requests already parsed in this tick join the same batch.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush() {
    if (this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.maxBatch);
    this.inFlight++;
    this.write(batch)
      .catch((err) => {
        for (const p of batch) p.reject(err);
      })
      .finally(() => {
        this.inFlight--;
        this.schedule();
      });
    this.schedule();
  }

  private async write(batch: Pending[]) {
    const db = await this.db();
    try {
      // One statement, so it commits on its own: no BEGIN/COMMIT round trips (see ingestBatch).
      const results = await ingestBatch(
        db,
        batch.map((p) => p.item),
        this.fingerprintHours,
      );
      for (const [i, p] of batch.entries()) p.resolve(results[i]!);
    } catch (err) {
      // Anything but a conflict or a refused value (a lock or statement timeout, a connection limit, a
      // failing side table) fails the whole batch: every caller answers 503 and the provider retries.
      if (!isWriteConflict(err) && !isContentError(err)) throw err;
      // One item's value (or a race with a concurrent batch) must not fail its neighbours.
      log.warn(
        { sqlstate: sqlState(err), size: batch.length },
        'batch write failed; writing items one by one',
      );
      await Promise.all(batch.map((p) => this.writeAlone(db, p)));
    }
  }

  /**
   * One item on its own. Only when the database refuses the item's values by themselves (checked
   * with valuesRefusal, not assumed from the error) is it recorded as malformed, without the
   * refused parts, and acknowledged: a retry of the same bytes would fail the same way forever.
   */
  private async writeAlone(db: Db, p: Pending, conflicts = 0): Promise<void> {
    try {
      const [r] = await ingestBatch(db, [p.item], this.fingerprintHours);
      p.resolve(r!);
    } catch (err) {
      if (isWriteConflict(err) && conflicts < 3) return this.writeAlone(db, p, conflicts + 1);
      if (!isContentError(err)) return p.reject(err);
      const refusal = await valuesRefusal(db, [p.item]);
      if (!isContentError(refusal)) return p.reject(err);
      const item: IngestItem = {
        receipt: {
          ...p.item.receipt,
          outcome: 'malformed',
          reason: `not storable: ${databaseReason(refusal)}`.slice(0, 200),
          headers: {},
          body: null,
          providerTs: null,
          lagMs: null,
        },
      };
      await ingestBatch(db, [item]).then(([r]) => p.resolve(r!), p.reject);
    }
  }

  private flushTimings(): Promise<void> {
    this.timingsTimer = null;
    this.timingsWrite = this.timingsWrite.then(() => this.writeTimings());
    return this.timingsWrite;
  }

  private async writeTimings() {
    const batch = this.timings.splice(0, 5000);
    if (batch.length === 0) return;
    try {
      await insertAckTimes(await this.db(), batch);
    } catch (err) {
      // Losing exact timings is acceptable (the provisional value stays); losing receipts is not.
      log.warn({ err: errorMessage(err), count: batch.length }, 'ack time update failed');
    }
    if (this.timings.length > 0) this.timingsTimer ??= setTimeout(() => this.flushTimings(), 250).unref();
  }

  async drain() {
    while (this.queue.length > 0 || this.inFlight > 0) await new Promise((r) => setTimeout(r, 5));
    // One write carries at most 5,000 timings; a failed write drops its batch, so this ends.
    while (this.timings.length > 0 || this.timingsTimer) {
      if (this.timingsTimer) clearTimeout(this.timingsTimer);
      await this.flushTimings();
    }
    await this.timingsWrite;
  }
}
