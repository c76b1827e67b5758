import type { Db } from '@/db/client';
import { getStoredSource } from '@/db/queries/sources';
import { isProviderName, type ProviderName } from '@/lib/providers/registry';
import type { SecretBox } from './crypto';

export type SourceOrigin = 'environment' | 'dashboard';

/** A source as the receiver needs it. */
export type ResolvedSource = {
  slug: string;
  provider: ProviderName;
  enabled: boolean;
  origin: SourceOrigin;
  /** Rejects when a stored secret cannot be opened (no or wrong SECRETS_ENCRYPTION_KEY). */
  secrets: () => Promise<readonly string[]>;
};

export type SourceDirectoryOptions = {
  db: () => Promise<Db>;
  box: SecretBox | null;
  /** Sources from the environment: answered from memory, never from the database. */
  builtIn: ReadonlyMap<string, ResolvedSource>;
  /** How long a stored source is trusted before it is read again (disable, secret change). */
  ttlMs?: number;
  /** How long "no such source" is remembered, so a flood of unknown slugs costs little. */
  missTtlMs?: number;
  maxEntries?: number;
};

type Entry = { at: number; value: Promise<ResolvedSource | null> };

/**
 * Finds the source for `/api/webhooks/:slug`. Built-in sources come from memory. Stored sources are
 * cached per process for `ttlMs` (5 s): a change made on another replica is seen within that time,
 * and a source created on another replica at once, because a miss is remembered only for
 * `missTtlMs` (1 s) and only if the slug was asked for before it existed. A change made through this
 * process's API is seen immediately (`invalidate`).
 */
export class SourceDirectory {
  private readonly cache = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly missTtlMs: number;
  private readonly maxEntries: number;

  constructor(private readonly opts: SourceDirectoryOptions) {
    this.ttlMs = opts.ttlMs ?? 5_000;
    this.missTtlMs = opts.missTtlMs ?? 1_000;
    this.maxEntries = opts.maxEntries ?? 1_000;
  }

  resolve(slug: string): Promise<ResolvedSource | null> {
    const builtIn = this.opts.builtIn.get(slug);
    if (builtIn) return Promise.resolve(builtIn);
    const now = performance.now();
    const hit = this.cache.get(slug);
    if (hit && now - hit.at < this.ttlMs) {
      // A remembered miss expires sooner than a hit (see the class comment).
      const fresh = hit.value.then((v) => v !== null || now - hit.at < this.missTtlMs);
      return fresh.then((ok) => (ok ? hit.value : this.load(slug)));
    }
    return this.load(slug);
  }

  isBuiltIn(slug: string): boolean {
    return this.opts.builtIn.has(slug);
  }

  invalidate(slug: string) {
    this.cache.delete(slug);
  }

  private load(slug: string): Promise<ResolvedSource | null> {
    const value = this.read(slug);
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(slug, { at: performance.now(), value });
    // A failed read (database down) is not remembered: the next request tries again.
    value.catch(() => this.cache.get(slug)?.value === value && this.cache.delete(slug));
    return value;
  }

  private async read(slug: string): Promise<ResolvedSource | null> {
    const row = await getStoredSource(await this.opts.db(), slug);
    if (!row || !isProviderName(row.provider)) return null;
    const box = this.opts.box;
    let opened: Promise<readonly string[]> | null = null;
    return {
      slug: row.slug,
      provider: row.provider,
      enabled: row.enabled,
      origin: 'dashboard',
      secrets: () => {
        opened ??= Promise.resolve().then(() => {
          if (!box)
            throw new Error('SECRETS_ENCRYPTION_KEY is not set: stored source secrets cannot be opened');
          return row.sealed.map((s) => box.open(row.slug, s.ciphertext));
        });
        return opened;
      },
    };
  }
}
