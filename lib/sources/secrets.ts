import { errorMessage } from '@/db/errors';
import type { Actor } from '@/db/queries/audit';
import {
  abortRotation,
  addSecret as addSecretRow,
  beginRotation,
  getSourceState,
  retireSecret as retireSecretRow,
  secretShares,
} from '@/db/queries/secrets';
import { listSecretMetas, type SealedSecret } from '@/db/queries/sources';
import { AppError } from '@/lib/errors';
import { log } from '@/lib/log';
import { type ProviderName, providerOf } from '@/lib/providers/registry';
import type { ManagementApi, ManagementClient } from '@/lib/providers/types';
import { ourSourceOfUrl } from '@/lib/receiver/stack';
import { ROTATION_STALE_MS } from './directory';
import type { SourceDeps } from './service';

/** A rotation keeps the old secret accepted this long unless told otherwise. */
export const DEFAULT_OVERLAP_SECONDS = 86_400;
/** The readiness meter's window: the source's last this many signed deliveries. */
export const READINESS_WINDOW = 1_000;

const STORE_ATTEMPTS = 3;

export type SecretsDeps = SourceDeps & { managementApi: (provider: ProviderName) => ManagementApi | null };

/** One secret as the API shows it: never its value. */
export type SecretView = {
  /** Null: a secret from the environment that no rotation has stored yet. */
  id: number | null;
  label: string | null;
  last4: string | null;
  created_at: Date | null;
  last_matched_at: Date | null;
  expires_at: Date | null;
  status: 'active' | 'expiring' | 'retired';
  /** How many of the source's last `window` signed deliveries this secret verified. */
  recent_matches: number;
};

export type SourceSecretsView = {
  slug: string;
  provider: string;
  provider_label: string;
  /** Whether "rotate" can regenerate the secret at the provider (else: paste a new one). */
  can_rotate: boolean;
  rotating_since: Date | null;
  window: number;
  /** Signed deliveries in the window (fewer than `window` on a young source). */
  recent_total: number;
  secrets: SecretView[];
};

type Target = { slug: string; provider: ProviderName; builtIn: boolean };

async function target(deps: SourceDeps, slug: string): Promise<Target> {
  const b = deps.directory.builtInOf(slug);
  if (b) return { slug, provider: b.provider, builtIn: true };
  const s = await deps.directory.resolve(slug);
  if (!s) throw new AppError('not_found', `No source "${slug}"`);
  return { slug, provider: s.provider, builtIn: false };
}

function requireBox(deps: SourceDeps) {
  if (!deps.box) {
    throw new AppError(
      'unavailable',
      'Secrets cannot be stored: set SECRETS_ENCRYPTION_KEY (32 random bytes, `openssl rand -base64 32`) and restart',
    );
  }
  return deps.box;
}

/** The environment's secrets of a default source not stored yet: stored with the first change. */
async function seedsToStore(deps: SourceDeps, t: Target): Promise<SealedSecret[]> {
  if (!t.builtIn) return [];
  const box = requireBox(deps);
  const source = await deps.directory.resolve(t.slug);
  const ring = await source!.keyring();
  return ring.active
    .filter((k) => k.id === null)
    .map((k) => ({ ciphertext: box.seal(t.slug, k.value), last4: k.last4, label: k.label }));
}

async function rotationClient(deps: SecretsDeps, provider: ProviderName): Promise<ManagementClient | null> {
  const load = providerOf(provider).management;
  const api = deps.managementApi(provider);
  if (!load || !api) return null;
  const client = await load(api);
  return client.regenerateSecret ? client : null;
}

export async function listSecrets(deps: SecretsDeps, slug: string): Promise<SourceSecretsView> {
  const t = await target(deps, slug);
  const db = await deps.db();
  const [metas, state, shares, source] = await Promise.all([
    listSecretMetas(db, slug),
    getSourceState(db, slug),
    secretShares(db, slug, READINESS_WINDOW),
    deps.directory.resolve(slug),
  ]);
  const now = Date.now();
  const statusOf = (expires: Date | null): SecretView['status'] =>
    expires === null ? 'active' : expires.getTime() > now ? 'expiring' : 'retired';
  const secrets: SecretView[] = metas.map((m) => ({
    ...m,
    status: statusOf(m.expires_at),
    recent_matches: shares.bySecret.get(m.id) ?? 0,
  }));
  if (t.builtIn && source) {
    // Environment secrets not stored yet: shown, with the deliveries no stored secret matched.
    const ring = await source.keyring().catch(() => ({ active: [] }));
    for (const k of ring.active.filter((k) => k.id === null)) {
      secrets.push({
        id: null,
        label: k.label,
        last4: k.last4,
        created_at: null,
        last_matched_at: null,
        expires_at: null,
        status: 'active',
        recent_matches: shares.bySecret.get(null) ?? 0,
      });
    }
  }
  return {
    slug,
    provider: t.provider,
    provider_label: providerOf(t.provider).label,
    can_rotate: (await rotationClient(deps, t.provider).catch(() => null)) !== null,
    rotating_since: state.row?.rotatingSince ?? null,
    window: READINESS_WINDOW,
    recent_total: shares.total,
    secrets,
  };
}

/**
 * Adds a secret the operator pasted (providers without a rotation API, such as Sly): the others stay
 * accepted for `overlapSeconds`, then stop.
 */
export async function addSecret(
  deps: SecretsDeps,
  slug: string,
  input: { value: string; label?: string | null; overlapSeconds?: number },
  who: Actor,
): Promise<SourceSecretsView> {
  const t = await target(deps, slug);
  const box = requireBox(deps);
  const seeds = await seedsToStore(deps, t);
  await addSecretRow(
    await deps.db(),
    {
      slug,
      provider: t.provider,
      secret: {
        ciphertext: box.seal(slug, input.value),
        last4: input.value.slice(-4),
        label: input.label ?? null,
      },
      seeds,
      overlapSeconds: input.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS,
      action: 'secret_add',
    },
    who,
  );
  deps.directory.invalidate(slug);
  return listSecrets(deps, slug);
}

/**
 * Rotates through the provider's API: marks the source as rotating (replicas then wait for the new
 * secret rather than refuse it), has the provider regenerate the webhook's secret, stores it and
 * keeps the previous ones for `overlapSeconds`. The new value is sealed at once and never answered.
 */
export async function rotateSecret(
  deps: SecretsDeps,
  slug: string,
  input: { overlapSeconds?: number; webhookId?: number },
  who: Actor,
): Promise<SourceSecretsView> {
  const t = await target(deps, slug);
  const box = requireBox(deps);
  const client = await rotationClient(deps, t.provider);
  if (!client) {
    throw new AppError(
      'conflict',
      `${providerOf(t.provider).label} cannot regenerate secrets through its API here: paste the new secret instead`,
    );
  }
  const webhookId = await webhookFor(client, slug, input.webhookId);
  const db = await deps.db();
  const began = await beginRotation(
    db,
    {
      slug,
      provider: t.provider,
      seeds: await seedsToStore(deps, t),
      webhookId,
      staleSeconds: ROTATION_STALE_MS / 1000,
    },
    who,
  );
  if (!began) {
    throw new AppError(
      'conflict',
      `A rotation of "${slug}" is under way: wait for it to end, then look again`,
    );
  }
  deps.directory.invalidate(slug);
  let secret: string;
  try {
    secret = (await client.regenerateSecret!(webhookId)).secret;
  } catch (err) {
    const e =
      err instanceof AppError ? err : new AppError('provider_error', 'The provider refused the rotation');
    // No answer, a 5xx or an answer we could not read: the provider may sign with a secret we do not
    // have. Only a rotation that succeeds stores one, so the operator is told to run one.
    const mayHaveChanged = e.code === 'provider_unreachable' || e.code === 'provider_error';
    await abortRotation(db, slug, who, {
      code: e.code,
      message: e.message,
      providerMayHaveChanged: mayHaveChanged,
    });
    deps.directory.invalidate(slug);
    if (!mayHaveChanged) throw e;
    throw new AppError(
      e.code,
      `${e.message}. The provider may have regenerated the secret anyway: if deliveries are now refused as signed with an unknown secret, rotate again`,
    );
  }
  const stored = {
    slug,
    provider: t.provider,
    secret: {
      ciphertext: box.seal(slug, secret),
      last4: secret.slice(-4),
      label: `Regenerated ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    },
    seeds: [],
    overlapSeconds: input.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS,
    action: 'secret_rotate' as const,
    detail: { webhook_id: webhookId },
  };
  // The provider already signs with the new secret: losing it would refuse every delivery, so the
  // write is retried before giving up.
  for (let attempt = 1; ; attempt++) {
    try {
      await addSecretRow(db, stored, who);
      break;
    } catch (err) {
      if (attempt >= STORE_ATTEMPTS) {
        log.error({ err: errorMessage(err), slug, webhook_id: webhookId }, 'rotation: new secret not stored');
        throw new AppError(
          'unavailable',
          'The provider issued a new secret but it could not be stored: rotate again once the database answers',
        );
      }
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
  deps.directory.invalidate(slug);
  return listSecrets(deps, slug);
}

/**
 * The provider webhook that sends to this source: the one named, else the one whose URL ends in its
 * path, else the account's only webhook (behind a tunnel or proxy path). Never one that names another
 * source's receiver: regenerating its secret would refuse every delivery of that source.
 */
async function webhookFor(client: ManagementClient, slug: string, id?: number): Promise<number> {
  const hooks = await client.listWebhooks();
  const path = `/api/webhooks/${slug}`;
  const otherSource = (url: string) => {
    // Any host: a webhook naming another source's path is refused whoever serves it.
    const named = ourSourceOfUrl(url, null);
    return named !== null && named !== slug ? named : null;
  };
  if (id !== undefined) {
    const hook = hooks.find((h) => h.id === id);
    if (!hook) throw new AppError('not_found', `No provider webhook ${id}`);
    const other = otherSource(hook.url);
    if (other)
      throw new AppError('conflict', `Provider webhook ${id} sends to source "${other}", not "${slug}"`);
    return id;
  }
  const matching = hooks.filter((h) => h.url.replace(/\/+$/, '').endsWith(path));
  if (matching.length === 1) return matching[0]!.id;
  if (matching.length === 0 && hooks.length === 1) {
    const other = otherSource(hooks[0]!.url);
    if (other) {
      throw new AppError(
        'conflict',
        `The provider's only webhook (${hooks[0]!.id}) sends to source "${other}", not "${slug}": create one for ${path} first`,
      );
    }
    return hooks[0]!.id;
  }
  throw new AppError(
    'conflict',
    `Several provider webhooks could send to ${path} (${(matching.length ? matching : hooks).map((h) => h.id).join(', ')}): give webhook_id`,
  );
}

export async function retireSecret(deps: SecretsDeps, slug: string, id: number, who: Actor) {
  await target(deps, slug);
  const result = await retireSecretRow(await deps.db(), slug, id, who);
  if (result === 'not_found') throw new AppError('not_found', `No secret ${id} on "${slug}"`);
  if (result === 'already_inactive') throw new AppError('conflict', `Secret ${id} is already retired`);
  if (result === 'last_active') {
    throw new AppError(
      'conflict',
      `Secret ${id} is the only active secret of "${slug}": add or rotate first`,
    );
  }
  deps.directory.invalidate(slug);
  return listSecrets(deps, slug);
}
