import { errorMessage } from '@/db/errors';
import { type ErrorCode, errorBody } from '@/lib/errors';
import { log } from '@/lib/log';
import type { RollupBuffer } from '@/lib/metrics/rollup-buffer';
import { metrics } from '@/lib/observability/metrics';
import { providerOf } from '@/lib/providers/registry';
import type { EnvelopeResult, HeaderReader, Provider } from '@/lib/providers/types';
import type { Keyring, ResolvedSource } from '@/lib/sources/directory';
import type { SecretUsage } from '@/lib/sources/usage';
import type { BodyBudget } from './body-budget';
import type { ForensicJob, ForensicsQueue } from './forensics-queue';
import { DeadlineError, type GroupCommit } from './group-commit';
import { cleanHeaderValue, storedHeaders } from './headers';
import { logReceipt } from './receipt-log';
import type { BackgroundRecorder } from './recorder';
import type { RefusalSampler } from './refusals';
import type { ReceiverRequest, ReceiverResponse } from './types';
import { RECHECK_DEADLINE_MS, within } from './within';

/**
 * Where a request was sent: the path's slug, and the source it names (null: no such source;
 * 'unavailable': the lookup failed, the database being down).
 */
export type ReceiverTarget = { slug: string; source: ResolvedSource | null | 'unavailable' };

export type ReceiverDeps = {
  maxBodyBytes: number;
  commit: GroupCommit;
  recorder: BackgroundRecorder;
  /** Diagnoses refused signatures in the background before their receipt is recorded. */
  forensics: ForensicsQueue;
  /** Which stored secret matched, for "last matched" (written in the background). */
  secretUsage: SecretUsage;
  /** Bounds the rows refused requests may leave (per client and minute). */
  refusals: RefusalSampler;
  /** Bounds the body bytes being read, per client and in all. */
  bodies: BodyBudget;
  /**
   * Signed deliveries whose signed timestamp is older than this are refused: a captured request
   * replayed after its dedupe keys were pruned must not be processed again (RECEIVER_MAX_AGE_HOURS).
   */
  maxAgeMs: number;
  /** Called after an event was committed, so a worker can pick it up without waiting to poll. */
  onAccepted?: () => void;
  /** Aggregates every answer (exact ack time) for the charts; see lib/metrics/rollup-buffer.ts. */
  rollups?: RollupBuffer;
  /** How long the source's secrets may take to load (./within.ts). */
  lookupDeadlineMs: number;
};

/** A signed timestamp this far ahead of our clock is refused too (a future-dated capture stays fresh). */
export const MAX_FUTURE_MS = 15 * 60_000;

/** Bodies of refused requests are kept only this far, as a hint for debugging. */
const REFUSED_BODY_KEEP = 2048;
const MAX_INT4 = 2_147_483_647;

type Refusal = {
  status: 400 | 404 | 410 | 413 | 503;
  outcome: 'rejected' | 'unavailable';
  reason: string;
  /** For the error body; defaults to the generic message for the reason. */
  message?: string;
  /** Refused before the body was (fully) read. */
  unread?: true;
  /** Signed refusals (stale, database down) are the provider's; the rest are anyone's. */
  authenticated: boolean;
  raw: Uint8Array | null;
  bytes: number;
  /** A refused signature: its receipt waits for a diagnosis (./forensics-queue.ts). */
  forensics?: ForensicJob;
  /** Recorded only if this resolves false: true means the request's own receipt committed after all. */
  recordUnless?: Promise<boolean>;
};

/**
 * The receiver: source, size limit, raw bytes, signature, envelope, one durable write, answer. It
 * knows providers only through their contract (lib/providers/types.ts). Shared by the Next route
 * handler and the bare HTTP entry through one stack (./stack.ts). Never throws: every input maps to
 * an answer.
 */
export async function receive(
  req: ReceiverRequest,
  target: ReceiverTarget,
  deps: ReceiverDeps,
): Promise<ReceiverResponse> {
  const receivedAt = new Date();
  const source = target.source === 'unavailable' ? null : target.source;
  const provider: Provider | null = source ? providerOf(source.provider) : null;
  // What the request claims (unsigned): stored on its own receipt row only, never a key or a label.
  const claimed = provider?.claimed(req.header) ?? null;
  const claimedDelivery = cleanHeaderValue(claimed?.dedupeId ?? null, 200);
  const claimedAttempt = cleanHeaderValue(claimed?.attemptId ?? null, 200);
  const claimedEvent = cleanHeaderValue(claimed?.eventType ?? null, 100);
  const origin = { source: target.slug, provider: provider?.name ?? null };
  const redacted = provider?.redactedHeaders ?? [];

  const refuse = (r: Refusal): ReceiverResponse => {
    const ackMs = performance.now() - req.startedAt;
    // Authenticated 503s (database down) are all kept: each is a delivery the provider will retry.
    const keep =
      r.authenticated && r.outcome === 'unavailable' ? 'detailed' : deps.refusals.admit(req.clientAddress);
    if (keep !== 'counted') {
      const row: Parameters<BackgroundRecorder['record']>[0] = {
        ...origin,
        receivedAt,
        deliveryId: claimedDelivery,
        attemptId: claimedAttempt,
        eventType: claimedEvent,
        outcome: r.outcome,
        reason: r.reason,
        httpStatus: r.status,
        ackMs,
        headers: keep === 'detailed' ? storedHeaders(req.headerEntries(), redacted) : {},
        body: keep === 'detailed' && r.raw ? textForStorage(r.raw, REFUSED_BODY_KEEP) : null,
        bodyBytes: r.bytes,
      };
      if (r.forensics) deps.forensics.submit(row, r.forensics);
      else if (r.recordUnless)
        void r.recordUnless.then((committed) => committed || deps.recorder.record(row));
      else deps.recorder.record(row);
    } else {
      metrics.refusalsUnrecorded.inc();
    }
    observe(
      provider,
      target.slug,
      r.outcome,
      null,
      ackMs,
      r.status,
      claimedDelivery,
      claimedAttempt,
      r.reason,
    );
    // Under a fixed key: a claimed event type must not become a rollup cell of its own.
    deps.rollups?.add({
      receivedAt,
      source: source?.slug ?? '',
      eventType: null,
      outcome: r.outcome,
      ackMs,
      lagMs: null,
    });
    return {
      status: r.status,
      body: errorBody(ERROR_CODE[r.status], r.message ?? messageFor(r.reason)),
      headers: r.status === 503 ? { 'Retry-After': '5' } : undefined,
      // Refused before the body was read: the connection must not be reused for what follows it.
      bodyUnread: r.unread,
    };
  };
  const unsigned = { authenticated: false, raw: null };

  // Refused before the body is read: nothing about it matters without a source to check it against.
  if (target.source === 'unavailable') {
    return refuse({
      ...unsigned,
      status: 503,
      outcome: 'unavailable',
      reason: 'database_unavailable',
      bytes: 0,
      unread: true,
    });
  }
  if (!source || !provider) {
    return refuse({
      ...unsigned,
      status: 404,
      outcome: 'rejected',
      reason: 'unknown_source',
      bytes: 0,
      unread: true,
    });
  }
  if (!source.enabled) {
    return refuse({
      ...unsigned,
      status: 410,
      outcome: 'rejected',
      reason: 'source_disabled',
      bytes: 0,
      unread: true,
    });
  }

  if (req.contentLength !== null && req.contentLength > deps.maxBodyBytes) {
    // body_bytes is int4: a claimed length beyond it would make the receipt row unwritable.
    const bytes = Math.min(req.contentLength, MAX_INT4);
    return refuse({
      ...unsigned,
      status: 413,
      outcome: 'rejected',
      reason: 'body_too_large',
      bytes,
      unread: true,
    });
  }
  const release = deps.bodies.take(
    req.clientAddress,
    Math.min(req.contentLength ?? deps.maxBodyBytes, deps.maxBodyBytes),
  );
  if (!release) {
    return refuse({
      ...unsigned,
      status: 503,
      outcome: 'unavailable',
      reason: 'too_many_bodies',
      bytes: 0,
      unread: true,
    });
  }
  let raw: Uint8Array | 'too_large';
  try {
    raw = await req.readBody(deps.maxBodyBytes);
  } catch {
    return refuse({ ...unsigned, status: 400, outcome: 'rejected', reason: 'body_unreadable', bytes: 0 });
  } finally {
    release();
  }
  if (raw === 'too_large') {
    const bytes = deps.maxBodyBytes + 1;
    return refuse({
      ...unsigned,
      status: 413,
      outcome: 'rejected',
      reason: 'body_too_large',
      bytes,
      unread: true,
    });
  }
  const bytes = raw.byteLength;

  let ring: Keyring;
  let check: ReturnType<Provider['verify']>;
  try {
    ring = await within(source.keyring(), deps.lookupDeadlineMs, 'signing secrets');
    check = provider.verify(raw, req.header, values(ring), receivedAt);
    if (!check.ok && check.reason === 'signature_mismatch') {
      // A secret stored on another replica in the last seconds (a rotation) is read before refusing.
      const fresh = await within(
        source.recheck(req.startedAt, raw.byteLength),
        RECHECK_DEADLINE_MS,
        'signing secrets, second look',
      );
      if (fresh) {
        ring = fresh;
        check = provider.verify(raw, req.header, values(ring), receivedAt);
      }
    }
  } catch (err) {
    log.error({ err: errorMessage(err) }, 'receiver: cannot load signing secrets');
    return refuse({ ...unsigned, status: 503, outcome: 'unavailable', reason: 'secrets_unavailable', bytes });
  }
  if (!check.ok)
    return refuse({
      status: 400,
      outcome: 'rejected',
      reason: check.reason,
      message: provider.signatureMessages[check.reason],
      authenticated: false,
      raw,
      bytes,
      forensics: {
        slug: target.slug,
        scheme: provider.scheme,
        presented: provider.scheme.presented(req.header),
        body: raw,
        now: receivedAt,
        own: ring,
      },
    });
  const secretId = ring.active[check.secretIndex]?.id ?? null;
  const signed = { authenticated: true, raw, bytes };

  // Raw headers, not cleaned and capped copies: an id cut to 200 characters is not the provider's id.
  const parsed = parseSafely(provider, raw, req.header);
  const headers = storedHeaders(req.headerEntries(), redacted);
  const bodyText = textForStorage(raw);
  let item: Parameters<GroupCommit['submit']>[0];
  if (!parsed.ok) {
    item = {
      receipt: {
        ...origin,
        receivedAt,
        headers,
        // From a body that failed validation: as untrusted as a header (NUL would fail the write).
        deliveryId: cleanHeaderValue(parsed.dedupeId ?? null, 200) ?? claimedDelivery,
        attemptId: claimedAttempt,
        eventType: cleanHeaderValue(parsed.eventType ?? null, 100) ?? claimedEvent,
        outcome: 'malformed',
        reason: parsed.reason,
        ackMs: 0,
        body: bodyText,
        bodyBytes: bytes,
        secretId,
      },
    };
  } else {
    const env = parsed.envelope;
    // Only a signed time decides freshness (the provider says which one that is).
    if (env.signedTs) {
      const age = receivedAt.getTime() - env.signedTs.getTime();
      if (age > deps.maxAgeMs)
        return refuse({ ...signed, status: 400, outcome: 'rejected', reason: 'timestamp_stale' });
      if (-age > MAX_FUTURE_MS)
        return refuse({ ...signed, status: 400, outcome: 'rejected', reason: 'timestamp_in_future' });
    }
    const providerTs = env.providerTs;
    const receipt = {
      ...origin,
      receivedAt,
      headers,
      deliveryId: env.dedupeId,
      attemptId: env.attemptId === null ? null : cleanHeaderValue(env.attemptId, 200),
      eventType: env.eventType,
      providerTs,
      lagMs: providerTs ? receivedAt.getTime() - providerTs.getTime() : null,
      ackMs: 0,
      body: bodyText,
      bodyBytes: bytes,
      secretId,
    };
    item = isKnown(provider, env.eventType)
      ? {
          receipt: { ...receipt, outcome: 'accepted' },
          event: {
            source: target.slug,
            provider: provider.name,
            deliveryId: env.dedupeId,
            eventType: env.eventType,
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
    const late = err instanceof DeadlineError;
    const reason = late ? 'write_timeout' : 'database_unavailable';
    log.warn({ err: errorMessage(err), reason }, 'receiver: durable write failed, answering 503');
    // A write still in flight at the deadline may commit yet: then its own receipt says 503 (the
    // group commit corrects it) and this request gets no second row.
    return refuse({
      ...signed,
      status: 503,
      outcome: 'unavailable',
      reason,
      recordUnless: late ? err.committed : undefined,
    });
  }
  const ackMs = performance.now() - req.startedAt;
  deps.commit.recordAck(result.receiptId, receivedAt, ackMs);
  if (secretId !== null) deps.secretUsage.matched(secretId, receivedAt);
  observe(
    provider,
    target.slug,
    result.outcome,
    item.receipt.eventType ?? null,
    ackMs,
    200,
    item.receipt.deliveryId ?? null,
    item.receipt.attemptId ?? null,
    result.reason,
  );
  deps.rollups?.add({
    receivedAt,
    source: target.slug,
    eventType: item.receipt.eventType ?? null,
    outcome: result.outcome,
    ackMs,
    // An event's lag counts once: a duplicate (a retry, or anyone replaying a captured body) would
    // add its age again.
    lagMs: result.outcome === 'accepted' ? (item.receipt.lagMs ?? null) : null,
  });
  if (result.outcome === 'accepted') deps.onAccepted?.();
  return { status: 200, body: { received: true, duplicate: result.outcome === 'duplicate' } };
}

const values = (ring: Keyring) => ring.active.map((k) => k.value);

const ERROR_CODE = {
  400: 'bad_request',
  404: 'not_found',
  410: 'gone',
  413: 'payload_too_large',
  503: 'unavailable',
} as const satisfies Record<Refusal['status'], ErrorCode>;

function isKnown(provider: Provider, eventType: string): boolean {
  return provider.knownEvents.includes(eventType);
}

function observe(
  provider: Provider | null,
  source: string,
  outcome: string,
  eventType: string | null,
  ackMs: number,
  status: number,
  deliveryId: string | null,
  attemptId: string | null,
  reason: string | null,
) {
  // Label values must stay few: a signed delivery may still name an event we do not know.
  const label =
    eventType === null ? 'unknown' : provider && isKnown(provider, eventType) ? eventType : 'other';
  // A request to no known source is labelled by a fixed value: its path must not mint label values.
  const providerLabel = provider?.name ?? 'none';
  metrics.receipts.inc({
    provider: providerLabel,
    source: provider ? source : '(unknown)',
    outcome,
    event_type: label,
  });
  metrics.ackSeconds.observe({ provider: providerLabel, outcome }, ackMs / 1000);
  logReceipt({
    source,
    provider: provider?.name ?? null,
    delivery_id: deliveryId,
    attempt_id: attemptId,
    event_type: eventType,
    outcome,
    reason,
    http_status: status,
    ack_ms: Math.round(ackMs * 100) / 100,
  });
}

const MESSAGES: Record<string, string> = {
  unknown_source: 'No such webhook source',
  source_disabled: 'This webhook source is disabled',
  body_too_large: 'Request body exceeds the size limit',
  body_unreadable: 'Request body could not be read',
  timestamp_stale: 'Delivery timestamp is older than the accepted window; it looks like a replay',
  timestamp_in_future: 'Delivery timestamp is too far in the future',
  database_unavailable: 'Database unavailable, retry later',
  write_timeout: 'Could not record the delivery in time, retry later',
  secrets_unavailable: 'Receiver not ready, retry later',
  too_many_bodies: 'Too many request bodies being sent from this address at once, retry later',
};
function messageFor(reason: string) {
  return MESSAGES[reason] ?? reason;
}

/** Postgres text cannot hold NUL, and bodies are shown to operators as text: decode leniently. */
function textForStorage(raw: Uint8Array, max?: number): string {
  const slice = max !== undefined && raw.byteLength > max ? raw.subarray(0, max) : raw;
  return new TextDecoder('utf-8').decode(slice).replaceAll('\u0000', '\uFFFD');
}

/**
 * The provider's parse, which must answer for any signed body: a throw (a parser's bug, a body
 * shaped to exhaust the stack) makes the delivery malformed, recorded and answered, not a request
 * left without an answer.
 */
function parseSafely(provider: Provider, raw: Uint8Array, header: HeaderReader): EnvelopeResult {
  try {
    return provider.parse(raw, header);
  } catch (err) {
    log.error({ err, provider: provider.name }, 'receiver: the provider could not parse a signed body');
    return { ok: false, reason: `body could not be parsed: ${(err as Error).name ?? 'error'}` };
  }
}
