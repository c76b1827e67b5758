import type { ReceiptInsert, ReceiptOutcome } from '@/db/schema';
import type { Envelope } from '@/lib/providers/skylight/envelope';

/** What the receiver needs from an HTTP request, so the route handler and a bare node server share it. */
export type ReceiverRequest = {
  header(name: string): string | null;
  headerEntries(): Iterable<[string, string]>;
  contentLength: number | null;
  /** Reads at most `limit` bytes; resolves 'too_large' as soon as more arrive. */
  readBody(limit: number): Promise<Uint8Array | 'too_large'>;
  /** performance.now() when the request arrived. */
  startedAt: number;
};

export type ReceiverResponse = {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
};

/** A receipt that must be committed before the answer (everything signed). */
export type DurableItem = {
  receipt: Omit<ReceiptInsert, 'outcome' | 'httpStatus' | 'ackMs' | 'eventId'> & {
    outcome: Extract<ReceiptOutcome, 'accepted' | 'malformed' | 'ignored'>;
  };
  envelope?: Envelope;
  startedAt: number;
};

export type DurableResult = {
  outcome: 'accepted' | 'duplicate' | 'malformed' | 'ignored';
  reason: string | null;
  receiptId: number;
  eventId: number | null;
};
