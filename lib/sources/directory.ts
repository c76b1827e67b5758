import type { Db } from '@/db/client';
import { getSourceState, listAllSecrets, type StoredSourceState } from '@/db/queries/secrets';
import { isProviderName, type ProviderName } from '@/lib/providers/registry';
import type { SecretBox } from './crypto';
import { isReservedSlug } from './defaults';

export type SourceOrigin = 'environment' | 'dashboard';

/** One signing secret in memory: its value never leaves the process (id, label and last4 may). */
export type SecretKey = { id: number | null; value: string; label: string | null; last4: string };

/** A source's secrets: those that verify now, and the retired or expired ones (forensics only). */
export type Keyring = {
  active: readonly SecretKey[];
  inactive: ReadonlyArray<SecretKey & { expiredAt: Date | null }>;
};

/** A source as the receiver needs it. */
export type ResolvedSource = {
  slug: string;
  provider: ProviderName;
  enabled: boolean;
  origin: SourceOrigin;
  /** Rejects when a stored secret cannot be opened (no or wrong SECRETS_ENCRYPTION_KEY). */
  keyring: () => Promise<Keyring>;
  /**
   * For a signature that matched no active secret: the keyring read again from the database by a
   * read that started after `after` (performance.now()), so a secret stored on another replica a
   * moment ago is seen; while a rotation is in flight at the provider it waits for the new secret.
   * Null when too many requests (or bytes of their bodies) are already waiting: a flood is refused
   * without it.
   */
  recheck: (after: number, bodyBytes: number) => Promise<Keyring | null>;
};

/** A default source configured by the environment (and in demo mode the sandbox's secrets). */
export type BuiltInSource = {
  slug: string;
  provider: ProviderName;
  /** The environment's secrets: accepted unless the same secret is stored (then the row decides). */
  seeds: () => Promise<readonly string[]>;
  /** For seeds: the environment variable that holds them (lib/sources/defaults.ts). */
  seedLabel: string;
};

export type SourceDirectoryOptions = {
  db: () => Promise<Db>;
  box: SecretBox | null;
  /** Sources from the environment: answered from memory, their stored secrets read like others'. */
  builtIn: ReadonlyMap<string, BuiltInSource>;
  /** How long a stored source is trusted before it is read again (disable, secret change). */
  ttlMs?: number;
  /** How long "no such source" is remembered, so a flood of unknown slugs costs little. */
  missTtlMs?: number;
  maxEntries?: number;
  /** Rechecks of one source start at most this often; callers in between share one read. */
  recheckEveryMs?: number;
  /** Refused-signature requests that may wait for a recheck at once; past it they are refused. */
  maxRechecking?: number;
  /** The bodies those requests hold, in bytes, at most (default 32 MiB). */
  maxRecheckBytes?: number;
  /** How long a refused signature waits for a rotation in flight to finish. */
  rotationWaitMs?: number;
};

type Entry = { at: number; value: Promise<StoredSourceState> };

/** A rotation marker older than this is a crashed rotation, not one in flight. */
export const ROTATION_STALE_MS = 60_000;
/** Secrets of all sources kept for forensics; beyond this the oldest are not matched. */
const FORENSIC_SECRETS = 200;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Finds the source for `/api/webhooks/:slug` and its secrets. Stored state is cached per process for
 * `ttlMs` (5 s): a change made on another replica is seen within that time, and at once by a
 * delivery that fails to verify (`recheck`), which is what makes a rotation refuse nothing. A source
 * created on another replica is seen at once too, because a miss is remembered only for `missTtlMs`
 * (1 s). A change made through this process's API is seen immediately (`invalidate`).
 */
export class SourceDirectory {
  private readonly cache = new Map<string, Entry>();
  private readonly fresh = new Map<string, { startedAt: number; value: Promise<StoredSourceState> }>();
  private readonly opened = new WeakMap<StoredSourceState, Promise<Map<number, string>>>();
  private readonly builtIns = new Map<string, ResolvedSource>();
  private forensic: { at: number; value: Promise<Map<string, Keyring>> } | null = null;
  private rechecking = 0;
  private recheckBytes = 0;
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
    if (builtIn) return Promise.resolve(this.builtInSource(builtIn));
    // A default source's slug whose variable is unset is off (its path answers 404), even though its
    // stored row (secrets pasted while it was on) is still there: nothing else could switch it off.
    if (isReservedSlug(slug)) return Promise.resolve(null);
    const now = performance.now();
    const hit = this.cache.get(slug);
    const value =
      hit && now - hit.at < this.ttlMs
        ? hit.value.then((s) =>
            // A remembered miss expires sooner than a hit (see the class comment).
            s.row !== null || now - hit.at < this.missTtlMs ? s : this.load(slug),
          )
        : this.load(slug);
    return value.then((s) => this.storedSource(s));
  }

  isBuiltIn(slug: string): boolean {
    return this.opts.builtIn.has(slug);
  }

  builtInOf(slug: string): BuiltInSource | null {
    return this.opts.builtIn.get(slug) ?? null;
  }

  invalidate(slug: string) {
    this.cache.delete(slug);
    this.fresh.delete(slug);
    this.forensic = null;
  }

  /** Every source's keyring (newest FORENSIC_SECRETS stored secrets, plus the seeds), cached `ttlMs`. */
  forensicKeyrings(): Promise<Map<string, Keyring>> {
    const now = performance.now();
    if (this.forensic && now - this.forensic.at < this.ttlMs) return this.forensic.value;
    const value = this.readForensic();
    this.forensic = { at: now, value };
    value.catch(() => this.forensic?.value === value && (this.forensic = null));
    return value;
  }

  private async readForensic(): Promise<Map<string, Keyring>> {
    const rows = await listAllSecrets(await this.opts.db(), FORENSIC_SECRETS);
    const bySource = new Map<string, StoredSourceState['secrets']>();
    for (const r of rows) bySource.set(r.source, [...(bySource.get(r.source) ?? []), r]);
    const out = new Map<string, Keyring>();
    for (const [slug, secrets] of bySource) {
      const state: StoredSourceState = { row: null, secrets };
      // A secret that does not open (key changed) cannot be matched: skipped, not fatal.
      out.set(slug, await this.keyringOf(state, [], '', { lenient: true }));
    }
    for (const b of this.opts.builtIn.values()) {
      const seeds = await b.seeds().catch(() => [] as string[]);
      const state: StoredSourceState = { row: null, secrets: bySource.get(b.slug) ?? [] };
      out.set(b.slug, await this.keyringOf(state, seeds, b.seedLabel, { lenient: true }));
    }
    return out;
  }

  private builtInSource(b: BuiltInSource): ResolvedSource {
    let source = this.builtIns.get(b.slug);
    if (source) return source;
    // Kept for the built-in sources only: a slug anyone may send must not hold memory here.
    let lastGood: StoredSourceState | null = null;
    const state = async () => {
      const hit = this.cache.get(b.slug);
      const entry = hit && performance.now() - hit.at < this.ttlMs ? hit.value : this.load(b.slug);
      // The secrets last read keep working while the database is away (a 503 follows anyway at the
      // write, but a refused signature stays a 400). Before any read there is nothing to fall back
      // on: the environment's secrets alone would bring back one retired in the database.
      return entry.then(
        (s) => (lastGood = s),
        (err: unknown) => {
          if (lastGood) return lastGood;
          throw err;
        },
      );
    };
    source = {
      slug: b.slug,
      provider: b.provider,
      enabled: true,
      origin: 'environment',
      keyring: async () => this.keyringOf(await state(), await b.seeds(), b.seedLabel),
      recheck: (after, bytes) => this.recheck(b.slug, after, bytes, b.seeds, b.seedLabel),
    };
    this.builtIns.set(b.slug, source);
    return source;
  }

  private storedSource(state: StoredSourceState): ResolvedSource | null {
    const row = state.row;
    if (!row || !isProviderName(row.provider)) return null;
    return {
      slug: row.slug,
      provider: row.provider,
      enabled: row.enabled,
      origin: 'dashboard',
      keyring: () => this.keyringOf(state, [], ''),
      recheck: (after, bytes) => this.recheck(row.slug, after, bytes, async () => [], ''),
    };
  }

  private async recheck(
    slug: string,
    after: number,
    bytes: number,
    seeds: () => Promise<readonly string[]>,
    seedLabel: string,
  ): Promise<Keyring | null> {
    // Deliveries keep arriving during a rotation (tens a second, each waiting for it to end): room
    // for them, but not for a flood's bodies.
    if (this.rechecking >= (this.opts.maxRechecking ?? 512)) return null;
    if (this.recheckBytes + bytes > (this.opts.maxRecheckBytes ?? 32 * 1_048_576)) return null;
    this.rechecking++;
    this.recheckBytes += bytes;
    try {
      const deadline = performance.now() + (this.opts.rotationWaitMs ?? 10_000);
      let state = await this.freshState(slug, after);
      while (isRotating(state) && performance.now() < deadline) {
        state = await this.freshState(slug, performance.now());
      }
      return await this.keyringOf(state, await seeds(), seedLabel);
    } finally {
      this.rechecking--;
      this.recheckBytes -= bytes;
    }
  }

  /** A read of the slug that started after `after`, at most one per `recheckEveryMs`, shared. */
  private freshState(slug: string, after: number): Promise<StoredSourceState> {
    const current = this.fresh.get(slug);
    if (current && current.startedAt >= after) return current.value;
    const now = performance.now();
    const startedAt = Math.max(now, (current?.startedAt ?? -Infinity) + (this.opts.recheckEveryMs ?? 200));
    const value = sleep(startedAt - now).then(() => this.read(slug));
    this.fresh.set(slug, { startedAt, value });
    value.then(
      () => this.cache.set(slug, { at: startedAt, value }),
      () => this.fresh.get(slug)?.value === value && this.fresh.delete(slug),
    );
    return value;
  }

  private load(slug: string): Promise<StoredSourceState> {
    const value = this.read(slug);
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(slug, { at: performance.now(), value });
    // A failed read (database down) is not remembered: the next request tries again.
    value.catch(() => this.cache.get(slug)?.value === value && this.cache.delete(slug));
    return value;
  }

  private async read(slug: string): Promise<StoredSourceState> {
    return getSourceState(await this.opts.db(), slug);
  }

  /**
   * Active: stored secrets not expired now, then seeds not stored at all (a seed stored and retired
   * stays retired even though the environment still names it). Opened once per read state.
   */
  private async keyringOf(
    state: StoredSourceState,
    seeds: readonly string[],
    seedLabel: string,
    opts: { lenient?: boolean } = {},
  ): Promise<Keyring> {
    let opened = this.opened.get(state);
    if (!opened) {
      opened = this.open(state, opts.lenient === true);
      this.opened.set(state, opened);
    }
    const values = await opened;
    const now = Date.now();
    const active: SecretKey[] = [];
    const inactive: Array<SecretKey & { expiredAt: Date | null }> = [];
    const stored = new Set<string>();
    for (const s of state.secrets) {
      const value = values.get(s.id);
      if (value === undefined) continue;
      stored.add(value);
      const key = { id: s.id, value, label: s.label, last4: s.last4 };
      if (s.expiresAt === null || s.expiresAt.getTime() > now) active.push(key);
      else inactive.push({ ...key, expiredAt: s.expiresAt });
    }
    seeds.forEach((value, i) => {
      if (!stored.has(value)) {
        active.push({ id: null, value, label: `${seedLabel} #${i + 1}`, last4: value.slice(-4) });
      }
    });
    return { active, inactive };
  }

  private async open(state: StoredSourceState, lenient: boolean): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    if (state.secrets.length === 0) return out;
    const box = this.opts.box;
    if (!box) {
      if (lenient) return out;
      throw new Error('SECRETS_ENCRYPTION_KEY is not set: stored source secrets cannot be opened');
    }
    for (const s of state.secrets) {
      try {
        out.set(s.id, box.open(s.source, s.ciphertext));
      } catch (err) {
        if (!lenient) throw err;
      }
    }
    return out;
  }
}

function isRotating(state: StoredSourceState): boolean {
  const since = state.row?.rotatingSince;
  return since != null && Date.now() - since.getTime() < ROTATION_STALE_MS;
}
