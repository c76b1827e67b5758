import { DELIVERY_STATUS_FILTERS } from './skylight/client-schemas';
import * as skylight from './skylight/protocol';
import * as sly from './sly/protocol';

/**
 * What the browser may know of each provider: names, labels, documented events and their notes.
 * Only protocol constants are imported here, so the client bundle gets no signature or parsing code;
 * the registry (server side) is checked against this list at compile time.
 */
export const CATALOG = {
  skylight: {
    label: skylight.LABEL,
    knownEvents: skylight.KNOWN_EVENTS,
    eventNotes: skylight.EVENT_NOTES,
    redactedHeaders: [skylight.HEADER_SIGNATURE],
    /** Status filters of its management API's delivery log. */
    deliveryStatuses: DELIVERY_STATUS_FILTERS,
  },
  sly: {
    label: sly.LABEL,
    knownEvents: sly.KNOWN_EVENTS,
    eventNotes: sly.EVENT_NOTES,
    redactedHeaders: [sly.HEADER_SIGNATURE],
    deliveryStatuses: [],
  },
} as const;

export type CatalogName = keyof typeof CATALOG;
export const CATALOG_NAMES = Object.keys(CATALOG) as CatalogName[];

/** Every documented event type of every provider, for filters. */
export const ALL_KNOWN_EVENTS: readonly string[] = [
  ...new Set(Object.values(CATALOG).flatMap((p) => [...p.knownEvents])),
].sort();

/** Headers no log line may show, whichever source a request came in on. */
export const REDACTED_HEADERS: readonly string[] = [
  ...new Set(Object.values(CATALOG).flatMap((p) => [...p.redactedHeaders])),
];

export function providerLabel(name: string): string {
  return Object.hasOwn(CATALOG, name) ? CATALOG[name as CatalogName].label : name;
}

/** The sentence shown for an event about delivery itself (e.g. Sly's webhook.dlq), if it is one. */
export function eventNote(provider: string, eventType: string): string | null {
  if (!Object.hasOwn(CATALOG, provider)) return null;
  const notes: Partial<Record<string, string>> = CATALOG[provider as CatalogName].eventNotes;
  return notes[eventType] ?? null;
}
