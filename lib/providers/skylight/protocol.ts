// SkyLight Chat delivery facts (provider-contract.md §1–§3). Everything provider-specific lives in
// this folder, so a second provider is a sibling folder rather than edits across the app.

export const LABEL = 'SkyLight Chat';

export const HEADER_EVENT = 'x-skylight-event';
export const HEADER_DELIVERY = 'x-skylight-delivery';
export const HEADER_SIGNATURE = 'x-skylight-signature';
export const HEADER_TIMESTAMP = 'x-skylight-timestamp';

/** The events the docs name; others may exist (the catalogue was not fully readable). */
export const KNOWN_EVENTS = [
  'contact.created',
  'contact.updated',
  'contact.deleted',
  'message.received',
  'message.sent',
  'booking.created',
] as const;
export type KnownEvent = (typeof KNOWN_EVENTS)[number];

/** Retry delays after a failed attempt: 2, 10 and 30 minutes (provider-contract.md §3). */
export const PROVIDER_RETRY_DELAYS_MS = [2 * 60_000, 10 * 60_000, 30 * 60_000] as const;
export const PROVIDER_TIMEOUT_MS = 30_000;

/** SkyLight sends no events about delivery itself. */
export const EVENT_NOTES: Partial<Record<KnownEvent, string>> = {};
