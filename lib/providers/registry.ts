import { skylight } from './skylight';
import { sly } from './sly';
import type { Provider } from './types';

/**
 * Every provider the app can receive from. Adding one: a folder lib/providers/<name>/ exporting a
 * `Provider`, one line here, and its handlers' line in lib/worker/handlers/index.ts.
 */
export const PROVIDERS = { skylight, sly } as const;

export type ProviderName = keyof typeof PROVIDERS;
export const PROVIDER_NAMES = Object.keys(PROVIDERS) as [ProviderName, ...ProviderName[]];
/** The event types each provider documents, as a union per provider (for the handler registry). */
export type EventOf<P extends ProviderName> = (typeof PROVIDERS)[P]['knownEvents'][number];

export function isProviderName(name: string): name is ProviderName {
  return Object.hasOwn(PROVIDERS, name);
}

export function providerOf(name: ProviderName): Provider {
  return PROVIDERS[name];
}

/** Headers no provider may see logged or shown, whichever source a request came in on. */
export const REDACTED_HEADERS: readonly string[] = [
  ...new Set(Object.values(PROVIDERS).flatMap((p) => p.redactedHeaders)),
];

/** The sentence shown for an event about delivery itself (e.g. Sly's webhook.dlq), if it is one. */
export function eventNote(provider: string, eventType: string): string | null {
  if (!isProviderName(provider)) return null;
  const notes: Partial<Record<string, string>> = PROVIDERS[provider].eventNotes;
  return notes[eventType] ?? null;
}
