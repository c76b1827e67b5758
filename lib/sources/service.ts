import type { Db } from '@/db/client';
import type { Actor } from '@/db/queries/audit';
import {
  insertSource,
  listStoredSources,
  type SealedSecret,
  type SecretMeta,
  updateSource,
} from '@/db/queries/sources';
import type { SourceRow } from '@/db/schema';
import { AppError } from '@/lib/errors';
import { type ProviderName, providerOf } from '@/lib/providers/registry';
import type { SecretBox } from './crypto';
import { DEFAULT_SOURCES, defaultSecrets, isReservedSlug } from './defaults';
import type { SourceDirectory, SourceOrigin } from './directory';

/** What the API answers for a source: secret metadata only, never a value. */
export type SourceView = {
  slug: string;
  provider: string;
  provider_label: string;
  enabled: boolean;
  origin: SourceOrigin;
  /** Where the provider must send: POST this path on the app's public URL. */
  path: string;
  secrets: Array<Omit<SecretMeta, 'id'> & { id: number | null }>;
  created_at: Date | null;
  updated_at: Date | null;
};

export type SourceDeps = { db: () => Promise<Db>; box: SecretBox | null; directory: SourceDirectory };

export type SecretInput = { value: string; label?: string | null };

const last4 = (secret: string) => secret.slice(-4);

function view(row: SourceRow, secrets: SourceView['secrets']): SourceView {
  return {
    slug: row.slug,
    provider: row.provider,
    provider_label: providerOf(row.provider as ProviderName).label,
    enabled: row.enabled,
    origin: 'dashboard',
    path: `/api/webhooks/${row.slug}`,
    secrets,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

/** Default sources first (those configured), then the stored ones by slug. */
export async function listSources(deps: SourceDeps): Promise<SourceView[]> {
  const stored = await listStoredSources(await deps.db());
  // A default source has a row once a rotation stored its secrets: those are the ones in use.
  const rotated = new Map(stored.filter((r) => isReservedSlug(r.slug)).map((r) => [r.slug, r]));
  const defaults: SourceView[] = DEFAULT_SOURCES.flatMap((d) => {
    const secrets = defaultSecrets(d);
    const configured = secrets.length > 0 || deps.directory.isBuiltIn(d.slug);
    if (!configured) return [];
    return [
      {
        slug: d.slug,
        provider: d.provider,
        provider_label: providerOf(d.provider).label,
        enabled: true,
        origin: 'environment' as const,
        path: `/api/webhooks/${d.slug}`,
        secrets: rotated.has(d.slug)
          ? rotated.get(d.slug)!.secrets.filter((m) => m.expires_at === null || m.expires_at > new Date())
          : secrets.map((s, i) => ({
              id: null,
              label: `${d.secretsVariable} #${i + 1}`,
              last4: last4(s),
              created_at: null,
              last_matched_at: null,
              expires_at: null,
            })),
        created_at: null,
        updated_at: null,
      },
    ];
  });
  const others = stored.filter((r) => !isReservedSlug(r.slug));
  return [...defaults, ...others.map((r) => view(r, r.secrets))];
}

function seal(deps: SourceDeps, slug: string, secrets: SecretInput[]): SealedSecret[] {
  if (secrets.length > 0 && !deps.box) {
    throw new AppError(
      'unavailable',
      'Secrets cannot be stored: set SECRETS_ENCRYPTION_KEY (32 random bytes, `openssl rand -base64 32`) and restart',
    );
  }
  return secrets.map((s) => ({
    ciphertext: deps.box!.seal(slug, s.value),
    last4: last4(s.value),
    label: s.label ?? null,
  }));
}

function refuseDefault(slug: string) {
  const d = DEFAULT_SOURCES.find((s) => s.slug === slug);
  if (d) {
    throw new AppError(
      'conflict',
      `"${slug}" is the default ${providerOf(d.provider).label} source, configured by ${d.secretsVariable}; choose another slug or change the variable`,
    );
  }
}

export async function createSource(
  deps: SourceDeps,
  input: { slug: string; provider: ProviderName; enabled: boolean; secrets: SecretInput[] },
  who: Actor,
): Promise<SourceView> {
  if (isReservedSlug(input.slug)) refuseDefault(input.slug);
  const sealed = seal(deps, input.slug, input.secrets);
  const row = await insertSource(await deps.db(), { ...input, secrets: sealed }, who);
  if (!row) throw new AppError('conflict', `A source "${input.slug}" already exists`);
  deps.directory.invalidate(input.slug);
  return (await listSources(deps)).find((s) => s.slug === input.slug)!;
}

export async function patchSource(
  deps: SourceDeps,
  slug: string,
  patch: { enabled?: boolean; secrets?: SecretInput[] },
  who: Actor,
): Promise<SourceView> {
  refuseDefault(slug);
  const sealed = patch.secrets ? seal(deps, slug, patch.secrets) : undefined;
  const row = await updateSource(await deps.db(), slug, { enabled: patch.enabled, secrets: sealed }, who);
  if (!row) throw new AppError('not_found', `No source "${slug}"`);
  deps.directory.invalidate(slug);
  return (await listSources(deps)).find((s) => s.slug === slug)!;
}
