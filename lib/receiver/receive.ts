import { errorBody } from '@/lib/errors';
import { log } from '@/lib/log';
import type { RollupBuffer } from '@/lib/metrics/rollup-buffer';
import { metrics } from '@/lib/observability/metrics';
import { parseEnvelope, parseTimestamp } from '@/lib/providers/skylight/envelope';
import {
  HEADER_DELIVERY,
  HEADER_EVENT,
  HEADER_SIGNATURE,
  HEADER_TIMESTAMP,
  KNOWN_EVENTS,
} from '@/lib/providers/skylight/protocol';
import { verifySignature } from '@/lib/providers/skylight/signature';
import { DeadlineError, type GroupCommit } from './group-commit';
import { cleanHeaderValue, storedHeaders } from './headers';
import { logReceipt } from './receipt-log';
import type { BackgroundRecorder } from './recorder';
import type { RefusalSampler } from './refusals';
import type { ReceiverRequest, ReceiverResponse } from './types';

export type ReceiverDeps = {
  secrets: () => Promise<readonly string[]> | readonly string[];
  maxBodyBytes: number;
  commit: GroupCommit;
  recorder: BackgroundRecorder;
  /** Bounds the rows refused requests may leave (per client and minute). */
  refusals: RefusalSampler;
  /**
   * Signed deliveries whose signed timestamp is older than this are refused: a captured request
   * replayed after its dedupe keys were pruned must not be processed again (RECEIVER_MAX_AGE_HOURS).
   */
  maxAgeMs: number;
  /** Called after an event was committed, so a worker can pick it up without waiting to poll. */
  onAccepted?: () => void;
  /** Aggregates every answer (exact ack time) for the charts; see lib/metrics/rollup-buffer.ts. */
  rollups?: RollupBuffer;
  /** Called for signed but malformed deliveries: operators must hear about these. */
  onMalformed?: (info: { deliveryId: string | null; reason: string }) => void;
};

/** A signed timestamp this far ahead of our clock is refused too (a future-dated capture stays fresh). */
export const MAX_FUTURE_MS = 15 * 60_000;

const KNOWN = new Set<string>(KNOWN_EVENTS);
/** Bodies of refused requests are kept only this far, as a hint for debugging. */
const REFUSED_BODY_KEEP = 2048;
const MAX_INT4 = 2_147_483_647;

type Refusal = {
  status: 400 | 413 | 503;
  outcome: 'rejected' | 'unavailable';
  reason: string;
  /** Signed refusals (stale, database down) are the provider's; the rest are anyone's. */
  authenticated: boolean;
  raw: Uint8Array | null;
  bytes: number;
};

/**
 * The receiver: size limit, raw bytes, signature, envelope, one durable write, answer. Shared by the
 * Next route handler and any bare HTTP entry point. Never throws: every input maps to an answer.
 */
export async function receive(req: ReceiverRequest, deps: ReceiverDeps): Promise<ReceiverResponse> {
  const receivedAt = new Date();
  // What the request claims (unsigned): stored on its own receipt row only, never a key or a label.
  const claimedDelivery = cleanHeaderValue(req.header(HEADER_DELIVERY), 200);
  const claimedEvent = cleanHeaderValue(req.header(HEADER_EVENT), 100);

  const refuse = (r: Refusal): ReceiverResponse => {
    const ackMs = performance.now() - req.startedAt;
    // Authenticated 503s (database down) are all kept: each is a delivery the provider will retry.
    const keep =
      r.authenticated && r.outcome === 'unavailable' ? 'detailed' : deps.refusals.admit(req.clientAddress);
    if (keep !== 'counted') {
      deps.recorder.record({
        receivedAt,
        deliveryId: claimedDelivery,
        eventType: claimedEvent,
        outcome: r.outcome,
        reason: r.reason,
        httpStatus: r.status,
        ackMs,
        headers: keep === 'detailed' ? storedHeaders(req.headerEntries()) : {},
        body: keep === 'detailed' && r.raw ? textForStorage(r.raw, REFUSED_BODY_KEEP) : null,
        bodyBytes: r.bytes,
      });
    } else {
      metrics.refusalsUnrecorded.inc();
    }
    observe(r.outcome, null, ackMs, r.status, claimedDelivery, r.reason);
    // Under a fixed key: a claimed event type must not become a rollup cell of its own.
    deps.rollups?.add({ receivedAt, eventType: null, outcome: r.outcome, ackMs, lagMs: null });
    const code = r.status === 413 ? 'payload_too_large' : r.status === 503 ? 'unavailable' : 'bad_request';
    return {
      status: r.status,
      body: errorBody(code, messageFor(r.reason)),
      headers: r.status === 503 ? { 'Retry-After': '5' } : undefined,
    };
  };
  const unsigned = { authenticated: false, raw: null };

  if (req.contentLength !== null && req.contentLength > deps.maxBodyBytes) {
    // body_bytes is int4: a claimed length beyond it would make the receipt row unwritable.
    const bytes = Math.min(req.contentLength, MAX_INT4);
    return refuse({ ...unsigned, status: 413, outcome: 'rejected', reason: 'body_too_large', bytes });
  }
  let raw: Uint8Array | 'too_large';
  try {
    raw = await req.readBody(deps.maxBodyBytes);
  } catch {
    return refuse({ ...unsigned, status: 400, outcome: 'rejected', reason: 'body_unreadable', bytes: 0 });
  }
  if (raw === 'too_large') {
    const bytes = deps.maxBodyBytes + 1;
    return refuse({ ...unsigned, status: 413, outcome: 'rejected', reason: 'body_too_large', bytes });
  }
  const bytes = raw.byteLength;

  let secrets: readonly string[];
  try {
    secrets = await deps.secrets();
  } catch (err) {
    log.error({ err: (err as Error).message }, 'receiver: cannot load signing secrets');
    return refuse({ ...unsigned, status: 503, outcome: 'unavailable', reason: 'secrets_unavailable', bytes });
  }
  const check = verifySignature(raw, req.header(HEADER_SIGNATURE), secrets);
  if (!check.ok)
    return refuse({
      status: 400,
      outcome: 'rejected',
      reason: check.reason,
      authenticated: false,
      raw,
      bytes,
    });
  const signed = { authenticated: true, raw, bytes };

  // The raw header, not the cleaned and capped copy: an id cut to 200 characters is not the provider's id.
  const parsed = parseEnvelope(raw, req.header(HEADER_DELIVERY));
  const headers = storedHeaders(req.headerEntries());
  const bodyText = textForStorage(raw);
  let item: Parameters<GroupCommit['submit']>[0];
  if (!parsed.ok) {
    item = {
      receipt: {
        receivedAt,
        headers,
        // From a body that failed validation: as untrusted as a header (NUL would fail the write).
        deliveryId: cleanHeaderValue(parsed.deliveryId ?? null, 200) ?? claimedDelivery,
        eventType: cleanHeaderValue(parsed.event ?? null, 100) ?? claimedEvent,
        outcome: 'malformed',
        reason: parsed.reason,
        ackMs: 0,
        body: bodyText,
        bodyBytes: bytes,
      },
    };
  } else {
    const env = parsed.envelope;
    // Only the body's timestamp is signed; the header's is not, so it never decides freshness.
    if (env.timestamp) {
      const age = receivedAt.getTime() - env.timestamp.getTime();
      if (age > deps.maxAgeMs)
        return refuse({ ...signed, status: 400, outcome: 'rejected', reason: 'timestamp_stale' });
      if (-age > MAX_FUTURE_MS)
        return refuse({ ...signed, status: 400, outcome: 'rejected', reason: 'timestamp_in_future' });
    }
    const providerTs = env.timestamp ?? headerTimestamp(req.header(HEADER_TIMESTAMP));
    const receipt = {
      receivedAt,
      headers,
      deliveryId: env.deliveryId,
      eventType: env.event,
      providerTs,
      lagMs: providerTs ? receivedAt.getTime() - providerTs.getTime() : null,
      ackMs: 0,
      body: bodyText,
      bodyBytes: bytes,
    };
    item = KNOWN.has(env.event)
      ? {
          receipt: { ...receipt, outcome: 'accepted' },
          event: {
            deliveryId: env.deliveryId,
            eventType: env.event,
            fingerprint: env.fingerprint,
            payloadText: env.payloadText,
            providerTs,
          },
        }
      : { receipt: { ...receipt, outcome: 'ignored', reason: 'unknown_event_type' } };
  }
  // Provisional: the exact ack time (after COMMIT) replaces it in the background.
  item.receipt.ackMs = performance.now() - req.startedAt;

  let result: Awaited<ReturnType<GroupCommit['submit']>>;
  try {
    result = await deps.commit.submit(item);
  } catch (err) {
    // Whatever the database said (down, locked, out of connections, a failing side table), nothing
    // was acknowledged: 503, and the provider retries. Only refused *content* is answered 200 (as
    // malformed), and the group commit decides that.
    const reason = err instanceof DeadlineError ? 'write_timeout' : 'database_unavailable';
    log.warn({ err: (err as Error).message, reason }, 'receiver: durable write failed, answering 503');
    return refuse({ ...signed, status: 503, outcome: 'unavailable', reason });
  }
  const ackMs = performance.now() - req.startedAt;
  deps.commit.recordAck(result.receiptId, ackMs);
  observe(
    result.outcome,
    item.receipt.eventType ?? null,
    ackMs,
    200,
    item.receipt.deliveryId ?? null,
    result.reason,
  );
  deps.rollups?.add({
    receivedAt,
    eventType: item.receipt.eventType ?? null,
    outcome: result.outcome,
    ackMs,
    lagMs: item.receipt.lagMs ?? null,
  });
  if (result.outcome === 'accepted') deps.onAccepted?.();
  if (result.outcome === 'malformed')
    deps.onMalformed?.({ deliveryId: item.receipt.deliveryId ?? null, reason: result.reason ?? '' });
  return { status: 200, body: { received: true, duplicate: result.outcome === 'duplicate' } };
}

function observe(
  outcome: string,
  eventType: string | null,
  ackMs: number,
  status: number,
  deliveryId: string | null,
  reason: string | null,
) {
  // Label values must stay few: a signed delivery may still name an event we do not know.
  const label = eventType === null ? 'unknown' : KNOWN.has(eventType) ? eventType : 'other';
  metrics.receipts.inc({ outcome, event_type: label });
  metrics.ackSeconds.observe({ outcome }, ackMs / 1000);
  logReceipt({
    delivery_id: deliveryId,
    event_type: eventType,
    outcome,
    reason,
    http_status: status,
    ack_ms: Math.round(ackMs * 100) / 100,
  });
}

const MESSAGES: Record<string, string> = {
  body_too_large: 'Request body exceeds the size limit',
  body_unreadable: 'Request body could not be read',
  signature_missing: 'Missing X-Skylight-Signature header',
  signature_malformed: 'X-Skylight-Signature must be "sha256=" followed by 64 lower-case hex characters',
  signature_mismatch: 'Signature does not match the request body',
  timestamp_stale: 'Delivery timestamp is older than the accepted window; it looks like a replay',
  timestamp_in_future: 'Delivery timestamp is too far in the future',
  database_unavailable: 'Database unavailable, retry later',
  write_timeout: 'Could not record the delivery in time, retry later',
  secrets_unavailable: 'Receiver not ready, retry later',
};
function messageFor(reason: string) {
  return MESSAGES[reason] ?? reason;
}

function headerTimestamp(value: string | null): Date | null {
  const t = parseTimestamp(value?.trim() ?? null);
  return t instanceof Date ? t : null;
}

/** Postgres text cannot hold NUL, and bodies are shown to operators as text: decode leniently. */
function textForStorage(raw: Uint8Array, max?: number): string {
  const slice = max !== undefined && raw.byteLength > max ? raw.subarray(0, max) : raw;
  return new TextDecoder('utf-8').decode(slice).replaceAll('\u0000', '\uFFFD');
}
