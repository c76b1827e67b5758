// Sly delivery facts (provider-contract.md §6b; docs.getsly.ai/webhooks). Sly is an agent-payments
// platform unrelated to SkyLight Chat: nothing here is shared with lib/providers/skylight/.

export const LABEL = 'Sly';

export const HEADER_SIGNATURE = 'x-sly-signature';
/** Stable across retries and replays: the dedupe key. */
export const HEADER_EVENT_ID = 'x-sly-event-id';
/** New for every attempt or replay: stored per receipt. */
export const HEADER_DELIVERY_ID = 'x-sly-delivery-id';
export const HEADER_WEBHOOK_ID = 'x-sly-webhook-id';

/** A signed `t` further than this from our clock (either way) is refused. */
export const TIMESTAMP_TOLERANCE_S = 5 * 60;

/** The event catalogue on docs.getsly.ai/webhooks/events, plus the webhook.* events about delivery. */
export const KNOWN_EVENTS = [
  'transfer.created',
  'transfer.completed',
  'transfer.failed',
  'transfer.refunded',
  'settlement.initiated',
  'settlement.processing',
  'settlement.completed',
  'settlement.failed',
  'settlement.returned',
  'approval.requested',
  'stream.alert',
  'webhook.test',
  'webhook.failing',
  'webhook.dlq',
] as const;
export type SlyEvent = (typeof KNOWN_EVENTS)[number];

/** Deliveries are retried with exponential backoff for up to 72 hours; each waits 15 s for an answer. */
export const RETRY_WINDOW_MS = 72 * 3_600_000;
export const TIMEOUT_MS = 15_000;
/** The docs give the window, not each step; these are the doubling steps that fill it. */
export const RETRY_DELAYS_MS = [
  60_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  8 * 3_600_000,
  24 * 3_600_000,
];

/** Events about delivery itself: shown to operators with these sentences, not as business events. */
export const EVENT_NOTES: Partial<Record<SlyEvent, string>> = {
  'webhook.dlq': 'the provider dead-lettered a delivery',
  'webhook.failing': 'the provider reports a webhook failing repeatedly',
  'webhook.test': 'a test event sent from the provider',
};
