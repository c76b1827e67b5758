import { record } from '@/db/histogram';
import type { RollupCell } from '@/db/queries/rollups';
import type { ReceiptOutcome } from '@/db/schema';

export type { RollupCell };

/** Distinct cells held at most; past it, new event types of a minute share one overflow cell per source. */
export const MAX_CELLS = 2000;
/** Overflow cells (one per minute and outcome) on top, for an outage that lasts; then samples drop. */
const MAX_OVERFLOW = 500;
export const OVERFLOW_TYPE = '(other)';

/**
 * Per-process aggregation of receipts into per-minute cells, with the exact ack time known only after
 * COMMIT. A job writes the cells every second (db/queries/rollups.ts), so charts never touch raw rows
 * and receipts are never rewritten for bookkeeping. A crash loses at most the unwritten second of
 * these statistics, never a receipt.
 */
export class RollupBuffer {
  private cells = new Map<string, RollupCell>();
  /** Samples that found the buffer full (a database outage long enough to fill every overflow cell). */
  dropped = 0;

  add(r: {
    receivedAt: Date;
    /** The receipt's source slug; '' when the request named no known source. */
    source: string;
    eventType: string | null;
    outcome: ReceiptOutcome;
    ackMs: number;
    lagMs: number | null;
  }) {
    const minute = Math.floor(r.receivedAt.getTime() / 60_000) * 60_000;
    const cell = this.cellFor(minute, r.source, r.eventType ?? '', r.outcome);
    if (!cell) return;
    cell.count++;
    record(cell.ack, r.ackMs);
    if (r.lagMs !== null) record(cell.lag, Math.max(0, r.lagMs));
  }

  get size() {
    return this.cells.size;
  }

  /** Takes every cell out (the rollups job keeps a batch it could not write, lib/jobs.ts). */
  take(): RollupCell[] {
    const out = [...this.cells.values()];
    this.cells.clear();
    return out;
  }

  /**
   * The cell for a key, created if there is room. However many distinct event types arrive, the
   * buffer holds at most MAX_CELLS + MAX_OVERFLOW cells, so one write stays small and memory flat.
   */
  private cellFor(
    minute: number,
    source: string,
    eventType: string,
    outcome: ReceiptOutcome,
  ): RollupCell | null {
    const key = `${minute}|${source}|${eventType}|${outcome}`;
    const found = this.cells.get(key);
    if (found) return found;
    if (this.cells.size >= MAX_CELLS && eventType !== OVERFLOW_TYPE) {
      return this.cellFor(minute, source, OVERFLOW_TYPE, outcome);
    }
    if (this.cells.size >= MAX_CELLS + MAX_OVERFLOW) {
      this.dropped++;
      return null;
    }
    const cell: RollupCell = { minute, source, eventType, outcome, count: 0, ack: {}, lag: {} };
    this.cells.set(key, cell);
    return cell;
  }
}
