import type { Db } from '@/db/client';
import { errorMessage, sqlState } from '@/db/errors';
import { insertReceipts } from '@/db/queries/ingest';
import type { ReceiptInsert } from '@/db/schema';
import { log } from '@/lib/log';
import { metrics } from '@/lib/observability/metrics';

const MAX_BUFFER = 20_000;
const FLUSH_MS = 200;

/**
 * Records requests we refused (bad signature, too large, database down) off the response path, in
 * batches. Nothing here was acknowledged, so a crash may lose a few of these rows by design; the
 * buffer is bounded so a flood of junk cannot exhaust memory, and it survives a database outage.
 */
export class BackgroundRecorder {
  private buffer: ReceiptInsert[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;

  /**
   * @param upstream resolves when rows still being prepared elsewhere (refused signatures awaiting
   *   their diagnosis) have been handed to `record`, so that `flush` writes those too.
   */
  constructor(
    private readonly db: () => Promise<Db>,
    private readonly upstream: () => Promise<void> = () => Promise.resolve(),
  ) {}

  record(row: ReceiptInsert) {
    if (this.buffer.length >= MAX_BUFFER) {
      this.buffer.shift();
      metrics.recorderDropped.inc();
    }
    this.buffer.push(row);
    this.timer ??= setTimeout(() => this.flushBuffer(), FLUSH_MS).unref();
  }

  get pending() {
    return this.buffer.length;
  }

  async flush(): Promise<void> {
    await this.upstream();
    return this.flushBuffer();
  }

  private flushBuffer(): Promise<void> {
    this.timer = null;
    this.flushing ??= this.write().finally(() => {
      this.flushing = null;
      if (this.buffer.length > 0) this.timer ??= setTimeout(() => this.flushBuffer(), FLUSH_MS).unref();
    });
    return this.flushing;
  }

  private async write() {
    while (this.buffer.length > 0) {
      // Taken out while written, so record() trimming a full buffer cannot shift what gets removed.
      const batch = this.buffer.splice(0, 1000);
      // What is not written yet if the database fails now: it goes back to the buffer.
      let rest = batch;
      try {
        const db = await this.db();
        await insertReceipts(db, batch).catch(async (err) => {
          if (!isRowRefusal(err)) throw err;
          // The database refused a row's values, not the write: one row it cannot store (say, an
          // out-of-range number) must not block every receipt behind it. Write one by one, drop it.
          for (const [i, row] of batch.entries()) {
            rest = batch.slice(i);
            await insertReceipts(db, [row]).catch((e) => {
              if (!isRowRefusal(e)) throw e;
              log.error({ err: errorMessage(e), reason: row.reason }, 'receipt recorder: row refused');
              metrics.recorderDropped.inc();
            });
          }
        });
      } catch (err) {
        const room = Math.max(0, MAX_BUFFER - this.buffer.length);
        if (room < rest.length) metrics.recorderDropped.inc(rest.length - room);
        this.buffer.unshift(...rest.slice(Math.max(0, rest.length - room)));
        log.warn(
          { err: errorMessage(err), buffered: this.buffer.length },
          'receipt recorder: write failed, will retry',
        );
        await new Promise((r) => setTimeout(r, 1000));
        return;
      }
    }
  }
}

/**
 * The database refused a row's values (SQLSTATE class 22, data exception, or 23, a constraint):
 * that row will never be stored. Anything else (a lock or statement timeout, too many connections, a
 * read-only database after a failover, a lost connection) is the database's state: the rows wait
 * and are written again, as the answers they record were given during exactly such a fault.
 */
function isRowRefusal(err: unknown): boolean {
  const state = sqlState(err);
  return state !== null && (state.startsWith('22') || state.startsWith('23'));
}
