import { env } from '@/lib/env';
import { CATALOG } from '../catalog';
import { headerId } from '../common';
import type { EnvelopeResult, HeaderReader, Provider } from '../types';
import { parseEnvelope } from './envelope';
import { skylightScheme } from './forensics';
import {
  EVENT_NOTES,
  HEADER_DELIVERY,
  HEADER_EVENT,
  HEADER_SIGNATURE,
  KNOWN_EVENTS,
  type KnownEvent,
  LABEL,
  PROVIDER_RETRY_DELAYS_MS,
  PROVIDER_TIMEOUT_MS,
} from './protocol';
import { verifySignature } from './signature';

const SIGNATURE_MESSAGES = {
  signature_missing: 'Missing X-Skylight-Signature header',
  signature_malformed: 'X-Skylight-Signature must be "sha256=" followed by 64 lower-case hex characters',
  signature_mismatch: 'Signature does not match the request body',
};

function parse(raw: Uint8Array, header: HeaderReader): EnvelopeResult {
  // The raw header, not a cleaned copy: an id cut to 200 characters is not the provider's id.
  const parsed = parseEnvelope(raw, header(HEADER_DELIVERY));
  if (!parsed.ok) {
    return { ok: false, reason: parsed.reason, eventType: parsed.event, dedupeId: parsed.deliveryId };
  }
  const env = parsed.envelope;
  return {
    ok: true,
    envelope: {
      eventType: env.event,
      dedupeId: env.deliveryId,
      attemptId: headerId(header(HEADER_DELIVERY)),
      // Only the body's timestamp is signed. The X-Skylight-Timestamp header is not: it stays in the
      // receipt's headers to read, and never dates an event (its lag, the order of its changes).
      providerTs: env.timestamp,
      signedTs: env.timestamp,
      data: env.data,
      payloadText: env.payloadText,
      fingerprint: env.fingerprint,
    },
  };
}

/**
 * SkyLight Chat (provider-contract.md §1–§5). Its docs call `delivery_id` per-attempt (C7), so ids are
 * not taken as stable: the receiver also dedupes on a content fingerprint.
 */
export const skylight: Provider<KnownEvent> = {
  name: 'skylight',
  label: LABEL,
  stableIds: false,
  knownEvents: KNOWN_EVENTS,
  eventNotes: EVENT_NOTES,
  noticeEvents: [],
  redactedHeaders: CATALOG.skylight.redactedHeaders,
  signatureHeader: HEADER_SIGNATURE,
  verify: (raw, header, secrets) => verifySignature(raw, header(HEADER_SIGNATURE), secrets),
  scheme: skylightScheme,
  signatureMessages: SIGNATURE_MESSAGES,
  parse,
  claimed: (header) => ({
    dedupeId: header(HEADER_DELIVERY),
    attemptId: header(HEADER_DELIVERY),
    eventType: header(HEADER_EVENT),
  }),
  delivery: {
    retryDelaysMs: PROVIDER_RETRY_DELAYS_MS,
    retryWindowMs: PROVIDER_RETRY_DELAYS_MS.reduce((a, b) => a + b, 0),
    timeoutMs: PROVIDER_TIMEOUT_MS,
  },
  management: async (api, use) => (await import('./management')).managementClient(api, use),
  configuredManagementApi: () =>
    env.SKYLIGHT_API_KEY ? { url: env.SKYLIGHT_API_URL, key: env.SKYLIGHT_API_KEY } : null,
  embeddedSandbox: async (target) => (await import('./sandbox/embedded')).startEmbeddedSandbox(target),
  sandboxSender: async (target) => (await import('./sandbox/send-one')).skylightSender(target),
};
