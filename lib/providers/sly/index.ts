import { CATALOG } from '../catalog';
import type { HeaderReader, Provider } from '../types';
import { parseEnvelope } from './envelope';
import { slyScheme } from './forensics';
import {
  EVENT_NOTES,
  HEADER_DELIVERY_ID,
  HEADER_EVENT_ID,
  HEADER_SIGNATURE,
  KNOWN_EVENTS,
  LABEL,
  RETRY_DELAYS_MS,
  RETRY_WINDOW_MS,
  type SlyEvent,
  TIMEOUT_MS,
} from './protocol';
import { SIGNATURE_FAILURES, verifySignature } from './signature';

/** Sly (docs.getsly.ai): stable event ids, a timestamped signature, no management client here. */
export const sly: Provider<SlyEvent> = {
  name: 'sly',
  label: LABEL,
  stableIds: true,
  knownEvents: KNOWN_EVENTS,
  eventNotes: EVENT_NOTES,
  noticeEvents: ['webhook.dlq', 'webhook.failing'],
  redactedHeaders: CATALOG.sly.redactedHeaders,
  signatureHeader: HEADER_SIGNATURE,
  verify: (raw, header, secrets, now) => verifySignature(raw, header(HEADER_SIGNATURE), secrets, now),
  scheme: slyScheme,
  signatureMessages: SIGNATURE_FAILURES,
  parse: parseEnvelope,
  claimed: (header: HeaderReader) => ({
    dedupeId: header(HEADER_EVENT_ID),
    attemptId: header(HEADER_DELIVERY_ID),
    eventType: null,
  }),
  delivery: { retryDelaysMs: RETRY_DELAYS_MS, retryWindowMs: RETRY_WINDOW_MS, timeoutMs: TIMEOUT_MS },
  sandboxSender: async (target) => new (await import('./sandbox')).SlySandboxSender(target),
};
