import type { Db } from '@/db/client';
import { type IngestItem, type IngestResult, ingestBatch, updateAckTimes } from '@/db/queries/ingest';
import { isDatabaseUnavailable, isWriteConflict } from '@/lib/errors';
import { log } from '@/lib/log';

type Pending = { item: IngestItem; resolve: (r: IngestResult) => void; reject: (e: unknown) => void };

export type GroupCommitOptions = {
  /** Most items written in one transaction. */
  maxBatch?: number;
  /** Transactions in flight at once; 1 for PGlite (one connection). */
  maxInFlight?: number;
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
  private timings: Array<{ id: number; ackMs: number }> = [];
  private timingsTimer: NodeJS.Timeout | null = null;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly db: () => Promise<Db>,
    opts: GroupCommitOptions = {},
  ) {
    this.maxBatch = opts.maxBatch ?? 256;
    this.maxInFlight = opts.maxInFlight ?? 4;
  }

  submit(item: IngestItem): Promise<IngestResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Records the exact ack time once the answer is ready; written in the background, batched. */
  recordAck(receiptId: number, ackMs: number) {
    this.timings.push({ id: receiptId, ackMs });
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
      );
      for (const [i, p] of batch.entries()) p.resolve(results[i]!);
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw err;
      // A data error in one item (say, a payload Postgres cannot store) must not fail its neighbours,
      // and a write conflict with a concurrent batch is settled by writing again.
      log.warn(
        { err: (err as Error).message, size: batch.length },
        'batch write failed; writing items one by one',
      );
      await Promise.all(batch.map((p) => this.writeAlone(db, p)));
    }
  }

  /**
   * One item on its own. If the database refuses its content (not its connection), it is recorded as
   * malformed with the database's reason and acknowledged: a retry of the same bytes would fail the
   * same way forever.
   */
  private async writeAlone(db: Db, p: Pending, conflicts = 0): Promise<void> {
    try {
      const [r] = await ingestBatch(db, [p.item]);
      p.resolve(r!);
    } catch (err) {
      if (isWriteConflict(err) && conflicts < 3) return this.writeAlone(db, p, conflicts + 1);
      if (isDatabaseUnavailable(err) || !p.item.event) return p.reject(err);
      // drizzle wraps the driver's error in "Failed query: <sql>"; the database's own words are the cause.
      const cause = (err as { cause?: unknown }).cause;
      const reason = `not storable: ${(cause instanceof Error ? cause : (err as Error)).message.slice(0, 200)}`;
      const item: IngestItem = { receipt: { ...p.item.receipt, outcome: 'malformed', reason } };
      await ingestBatch(db, [item]).then(([r]) => p.resolve(r!), p.reject);
    }
  }

  private async flushTimings() {
    this.timingsTimer = null;
    const batch = this.timings.splice(0, 5000);
    if (batch.length === 0) return;
    try {
      await updateAckTimes(await this.db(), batch);
    } catch (err) {
      // Losing exact timings is acceptable (the provisional value stays); losing receipts is not.
      log.warn({ err: (err as Error).message, count: batch.length }, 'ack time update failed');
    }
    if (this.timings.length > 0) this.timingsTimer ??= setTimeout(() => this.flushTimings(), 250).unref();
  }

  async drain() {
    while (this.queue.length > 0 || this.inFlight > 0) await new Promise((r) => setTimeout(r, 5));
    if (this.timingsTimer) clearTimeout(this.timingsTimer);
    await this.flushTimings();
  }
}
