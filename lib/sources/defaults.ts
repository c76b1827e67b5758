import { env, splitSecrets } from '@/lib/env';
import type { ProviderName } from '@/lib/providers/registry';

/**
 * The sources configured by the environment, one per provider. They need no database row and cannot
 * be changed through the API; their slugs are reserved even while unconfigured.
 */
export const DEFAULT_SOURCES = [
  { slug: 'skylightchat', provider: 'skylight', secretsVariable: 'SKYLIGHT_WEBHOOK_SECRET' },
  { slug: 'sly', provider: 'sly', secretsVariable: 'SLY_WEBHOOK_SECRET' },
] as const satisfies ReadonlyArray<{
  slug: string;
  provider: ProviderName;
  secretsVariable: 'SKYLIGHT_WEBHOOK_SECRET' | 'SLY_WEBHOOK_SECRET';
}>;

export type DefaultSource = (typeof DEFAULT_SOURCES)[number];

/** The source a delivery belonged to before sources existed (migration 0007 backfills it). */
export const LEGACY_SOURCE = DEFAULT_SOURCES[0];

export function isReservedSlug(slug: string): boolean {
  return DEFAULT_SOURCES.some((s) => s.slug === slug);
}

/** Secrets of a default source from its variable; empty: not configured (its path answers 404). */
export function defaultSecrets(source: DefaultSource): string[] {
  return splitSecrets(env[source.secretsVariable]);
}
