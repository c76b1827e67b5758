import type { ReceiptOutcome } from '@/db/schema';
import { type Histogram, merge, record } from './histogram';

export type RollupCell = {
  minute: number;
  eventType: string;
  outcome: ReceiptOutcome;
  count: number;
  ack: Histogram;
  lag: Histogram;
};

/**
 * Per-process aggregation of receipts into per-minute cells, with the exact ack time known only after
 * COMMIT. A job writes the cells every second (db/queries/rollups.ts), so charts never touch raw rows
 * and receipts are never rewritten for bookkeeping. A crash loses at most the unwritten second of
 * these statistics, never a receipt.
 */
export class RollupBuffer {
  private cells = new Map<string, RollupCell>();

  add(r: {
    receivedAt: Date;
    eventType: string | null;
    outcome: ReceiptOutcome;
    ackMs: number;
    lagMs: number | null;
  }) {
    const minute = Math.floor(r.receivedAt.getTime() / 60_000) * 60_000;
    const eventType = r.eventType ?? '';
    const key = `${minute}|${eventType}|${r.outcome}`;
    let cell = this.cells.get(key);
    if (!cell) {
      cell = { minute, eventType, outcome: r.outcome, count: 0, ack: {}, lag: {} };
      this.cells.set(key, cell);
    }
    cell.count++;
    record(cell.ack, r.ackMs);
    if (r.lagMs !== null) record(cell.lag, Math.max(0, r.lagMs));
  }

  get size() {
    return this.cells.size;
  }

  /** Takes every cell out; give them back with `restore` if writing them failed. */
  take(): RollupCell[] {
    const out = [...this.cells.values()];
    this.cells.clear();
    return out;
  }

  restore(cells: RollupCell[]) {
    for (const c of cells) {
      const key = `${c.minute}|${c.eventType}|${c.outcome}`;
      const cur = this.cells.get(key);
      if (!cur) this.cells.set(key, c);
      else {
        cur.count += c.count;
        merge(cur.ack, c.ack);
        merge(cur.lag, c.lag);
      }
    }
  }
}
