import type { CatalogName } from './catalog';
import { skylight } from './skylight';
import { sly } from './sly';
import type { Provider } from './types';

/**
 * Every provider the app can receive from. Adding one: a folder lib/providers/<name>/ exporting a
 * `Provider`, one line here, one in ./catalog.ts (what the browser may know), and its handlers'
 * entry in lib/worker/handlers/index.ts.
 */
export const PROVIDERS = { skylight, sly } as const;

export type ProviderName = keyof typeof PROVIDERS;

// The browser's catalogue (./catalog.ts) must name exactly these providers.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const catalogMatches: Same<ProviderName, CatalogName> = true;
void catalogMatches;
export const PROVIDER_NAMES = Object.keys(PROVIDERS) as [ProviderName, ...ProviderName[]];
/** The event types each provider documents, as a union per provider (for the handler registry). */
export type EventOf<P extends ProviderName> = (typeof PROVIDERS)[P]['knownEvents'][number];

export function isProviderName(name: string): name is ProviderName {
  return Object.hasOwn(PROVIDERS, name);
}

export function providerOf(name: ProviderName): Provider {
  return PROVIDERS[name];
}

/**
 * The longest any provider keeps retrying one delivery: a delivery id must dedupe at least this long
 * (plus the last attempt's own wait for an answer).
 */
export function longestRetryWindowMs(): number {
  return Math.max(
    ...PROVIDER_NAMES.map((p) => providerOf(p).delivery.retryWindowMs + providerOf(p).delivery.timeoutMs),
  );
}
