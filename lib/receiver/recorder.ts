import type { Db } from '@/db/client';
import { errorMessage } from '@/db/errors';
import { insertReceipts } from '@/db/queries/ingest';
import type { ReceiptInsert } from '@/db/schema';
import { isDatabaseUnavailable } from '@/lib/errors';
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
      try {
        const db = await this.db();
        await insertReceipts(db, batch).catch(async (err) => {
          if (isDatabaseUnavailable(err)) throw err;
          // The database refused the content, not the connection: one row it cannot store (say, an
          // out-of-range number) must not block every receipt behind it. Write one by one, drop it.
          for (const row of batch) {
            await insertReceipts(db, [row]).catch((e) => {
              if (isDatabaseUnavailable(e)) throw e;
              log.error({ err: errorMessage(e), reason: row.reason }, 'receipt recorder: row refused');
              metrics.recorderDropped.inc();
            });
          }
        });
      } catch (err) {
        const room = Math.max(0, MAX_BUFFER - this.buffer.length);
        if (room < batch.length) metrics.recorderDropped.inc(batch.length - room);
        this.buffer.unshift(...batch.slice(Math.max(0, batch.length - room)));
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
