import { log } from '@/lib/log';

const SUMMARY_MS = 60_000;
let counts = new Map<string, number>();
let summarising = false;

/**
 * One debug line per receipt; at info, one summary line a minute with the answers by outcome. A line
 * per request at info was noise at volume (and a cost on the hot path).
 */
export function logReceipt(entry: {
  source: string;
  provider: string | null;
  delivery_id: string | null;
  /** The provider's id of this attempt (Sly's X-Sly-Delivery-Id), when it sends one. */
  attempt_id: string | null;
  event_type: string | null;
  outcome: string;
  reason: string | null;
  http_status: number;
  ack_ms: number;
}) {
  log.debug(entry, 'webhook receipt');
  // Refusal reasons are a fixed set; a malformed body's reason quotes the body, so it is left out.
  const refused = entry.outcome === 'rejected' || entry.outcome === 'unavailable';
  const key = refused && entry.reason ? `${entry.outcome}:${entry.reason}` : entry.outcome;
  counts.set(key, (counts.get(key) ?? 0) + 1);
  if (!summarising) {
    summarising = true;
    setInterval(flushReceiptSummary, SUMMARY_MS).unref();
  }
}

export function flushReceiptSummary() {
  if (counts.size === 0) return;
  const receipts = Object.fromEntries(counts);
  counts = new Map();
  log.info({ receipts, window_s: SUMMARY_MS / 1000 }, 'webhook receipts summary');
}
