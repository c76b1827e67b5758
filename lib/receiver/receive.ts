import { errorBody, isDatabaseUnavailable } from '@/lib/errors';
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
import type { GroupCommit } from './group-commit';
import type { BackgroundRecorder } from './recorder';
import type { ReceiverRequest, ReceiverResponse } from './types';

export type ReceiverDeps = {
  secrets: () => Promise<readonly string[]> | readonly string[];
  maxBodyBytes: number;
  commit: GroupCommit;
  recorder: BackgroundRecorder;
  /** Called after an event was committed, so a worker can pick it up without waiting to poll. */
  onAccepted?: () => void;
  /** Aggregates every answer (exact ack time) for the charts; see lib/metrics/rollup-buffer.ts. */
  rollups?: RollupBuffer;
  /** Called for signed but malformed deliveries: operators must hear about these. */
  onMalformed?: (info: { deliveryId: string | null; reason: string }) => void;
};

const KNOWN = new Set<string>(KNOWN_EVENTS);
/** Bodies of unsigned (rejected) requests are kept only this far, as a hint for debugging. */
const REJECTED_BODY_KEEP = 2048;
const HEADER_VALUE_KEEP = 512;
const HEADERS_KEEP = 40;
const DROPPED_HEADERS = new Set(['cookie', 'authorization', 'x-api-key']);
const MAX_INT4 = 2_147_483_647;

/**
 * The receiver: size limit, raw bytes, signature, envelope, one durable write, answer. Shared by the
 * Next route handler and any bare HTTP entry point. Never throws: every input maps to an answer.
 */
export async function receive(req: ReceiverRequest, deps: ReceiverDeps): Promise<ReceiverResponse> {
  const receivedAt = new Date();
  const headers = storedHeaders(req);
  const headerDelivery = clean(req.header(HEADER_DELIVERY), 200);
  const headerEvent = clean(req.header(HEADER_EVENT), 100);
  const base = { receivedAt, headers, deliveryId: headerDelivery, eventType: headerEvent };

  const reject = (
    status: number,
    outcome: 'rejected' | 'unavailable',
    reason: string,
    body: string | null,
    bytes: number,
  ) => {
    const ackMs = performance.now() - req.startedAt;
    deps.recorder.record({ ...base, outcome, reason, httpStatus: status, ackMs, body, bodyBytes: bytes });
    observe(outcome, headerEvent, ackMs, status, headerDelivery, reason);
    deps.rollups?.add({ receivedAt, eventType: headerEvent, outcome, ackMs, lagMs: null });
    const code = status === 413 ? 'payload_too_large' : status === 503 ? 'unavailable' : 'bad_request';
    return {
      status,
      body: errorBody(code, messageFor(reason)),
      headers: status === 503 ? { 'Retry-After': '5' } : undefined,
    };
  };

  if (req.contentLength !== null && req.contentLength > deps.maxBodyBytes) {
    // body_bytes is int4: a claimed length beyond it would make the receipt row unwritable.
    return reject(413, 'rejected', 'body_too_large', null, Math.min(req.contentLength, MAX_INT4));
  }
  let raw: Uint8Array | 'too_large';
  try {
    raw = await req.readBody(deps.maxBodyBytes);
  } catch {
    return reject(400, 'rejected', 'body_unreadable', null, 0);
  }
  if (raw === 'too_large') return reject(413, 'rejected', 'body_too_large', null, deps.maxBodyBytes + 1);

  let secrets: readonly string[];
  try {
    secrets = await deps.secrets();
  } catch (err) {
    log.error({ err: (err as Error).message }, 'receiver: cannot load signing secrets');
    return reject(503, 'unavailable', 'secrets_unavailable', null, raw.byteLength);
  }
  const check = verifySignature(raw, req.header(HEADER_SIGNATURE), secrets);
  if (!check.ok)
    return reject(400, 'rejected', check.reason, textForStorage(raw, REJECTED_BODY_KEEP), raw.byteLength);

  // The raw header, not the cleaned and capped copy: an id cut to 200 characters is not the provider's id.
  const parsed = parseEnvelope(raw, req.header(HEADER_DELIVERY));
  const bodyText = textForStorage(raw);
  let item: Parameters<GroupCommit['submit']>[0];
  if (!parsed.ok) {
    item = {
      receipt: {
        ...base,
        // From a body that failed validation: as untrusted as a header (NUL would fail the write).
        deliveryId: clean(parsed.deliveryId ?? null, 200) ?? headerDelivery,
        eventType: clean(parsed.event ?? null, 100) ?? headerEvent,
        outcome: 'malformed',
        reason: parsed.reason,
        ackMs: 0,
        body: bodyText,
        bodyBytes: raw.byteLength,
      },
    };
  } else {
    const env = parsed.envelope;
    const providerTs = env.timestamp ?? headerTimestamp(req.header(HEADER_TIMESTAMP));
    const receipt = {
      ...base,
      deliveryId: env.deliveryId,
      eventType: env.event,
      providerTs,
      lagMs: providerTs ? receivedAt.getTime() - providerTs.getTime() : null,
      ackMs: 0,
      body: bodyText,
      bodyBytes: raw.byteLength,
    };
    item = KNOWN.has(env.event)
      ? {
          receipt: { ...receipt, outcome: 'accepted' },
          event: {
            deliveryId: env.deliveryId,
            eventType: env.event,
            fingerprint: env.fingerprint,
            payload: {
              event: env.event,
              delivery_id: env.deliveryId,
              timestamp: env.timestamp,
              data: env.data,
            },
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
    if (!isDatabaseUnavailable(err)) log.error({ err }, 'receiver: durable write failed');
    return reject(
      503,
      'unavailable',
      isDatabaseUnavailable(err) ? 'database_unavailable' : 'write_failed',
      null,
      raw.byteLength,
    );
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
  // Label values must stay few: an unsigned request can claim any event name in its header.
  const label = eventType === null ? 'unknown' : KNOWN.has(eventType) ? eventType : 'other';
  metrics.receipts.inc({ outcome, event_type: label });
  metrics.ackSeconds.observe({ outcome }, ackMs / 1000);
  log.info(
    {
      delivery_id: deliveryId,
      event_type: eventType,
      outcome,
      reason,
      http_status: status,
      ack_ms: Math.round(ackMs * 100) / 100,
    },
    'webhook receipt',
  );
}

const MESSAGES: Record<string, string> = {
  body_too_large: 'Request body exceeds the size limit',
  body_unreadable: 'Request body could not be read',
  signature_missing: 'Missing X-Skylight-Signature header',
  signature_malformed: 'X-Skylight-Signature must be "sha256=" followed by 64 lower-case hex characters',
  signature_mismatch: 'Signature does not match the request body',
  database_unavailable: 'Database unavailable, retry later',
  secrets_unavailable: 'Receiver not ready, retry later',
  write_failed: 'Could not record the delivery, retry later',
};
function messageFor(reason: string) {
  return MESSAGES[reason] ?? reason;
}

/** Header values are attacker-controlled: strip control characters (no log or CSV injection) and cap. */
function clean(value: string | null, max: number): string | null {
  if (value === null) return null;
  const v = value.replace(/[\x00-\x1f\x7f-\x9f]/g, '').slice(0, max);
  return v === '' ? null : v;
}

function storedHeaders(req: ReceiverRequest): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  for (const [name, value] of req.headerEntries()) {
    const key = name.toLowerCase();
    if (DROPPED_HEADERS.has(key)) continue;
    if (n++ >= HEADERS_KEEP) break;
    out[key.slice(0, 100)] =
      key === HEADER_SIGNATURE ? '[redacted]' : (clean(value, HEADER_VALUE_KEEP) ?? '');
  }
  return out;
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
