import type { HeaderReader, Provider } from '../types';
import { parseEnvelope } from './envelope';
import {
  HEADER_DELIVERY_ID,
  HEADER_EVENT_ID,
  HEADER_SIGNATURE,
  KNOWN_EVENTS,
  RETRY_DELAYS_MS,
  RETRY_WINDOW_MS,
  type SlyEvent,
  TIMEOUT_MS,
} from './protocol';
import { SIGNATURE_FAILURES, verifySignature } from './signature';

/** Sly (docs.getsly.ai): stable event ids, a timestamped signature, no management client here. */
export const sly: Provider<SlyEvent> = {
  name: 'sly',
  label: 'Sly',
  stableIds: true,
  knownEvents: KNOWN_EVENTS,
  eventNotes: {
    'webhook.dlq': 'the provider dead-lettered a delivery',
    'webhook.failing': 'the provider reports a webhook failing repeatedly',
    'webhook.test': 'a test event sent from the provider',
  },
  redactedHeaders: [HEADER_SIGNATURE],
  signatureHeader: HEADER_SIGNATURE,
  verify: (raw, header, secrets, now) => verifySignature(raw, header(HEADER_SIGNATURE), secrets, now),
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
