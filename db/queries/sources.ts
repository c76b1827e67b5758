import { asc, eq, sql } from 'drizzle-orm';
import type { Queryable } from '../client';
import { type SourceRow, sourceSecrets, sources } from '../schema';
import { type Actor, insertAudit } from './audit';

export type SealedSecret = { ciphertext: string; last4: string; label: string | null };

/** What the API may show of a secret: never its value. */
const SECRET_META = {
  id: sourceSecrets.id,
  label: sourceSecrets.label,
  last4: sourceSecrets.last4,
  created_at: sourceSecrets.createdAt,
  last_matched_at: sourceSecrets.lastMatchedAt,
  expires_at: sourceSecrets.expiresAt,
};
export type SecretMeta = { [K in keyof typeof SECRET_META]: (typeof SECRET_META)[K]['_']['data'] | null };

export type SourceWithSecrets = SourceRow & { secrets: SecretMeta[] };

export async function listStoredSources(db: Queryable): Promise<SourceWithSecrets[]> {
  const rows = await db.select().from(sources).orderBy(asc(sources.slug));
  const metas = await db
    .select({ ...SECRET_META, source: sourceSecrets.source })
    .from(sourceSecrets)
    .orderBy(asc(sourceSecrets.id));
  return rows.map((r) => ({
    ...r,
    secrets: metas.filter((m) => m.source === r.slug).map(({ source: _, ...m }) => m),
  }));
}

/** One source's secret metadata, oldest first. */
export async function listSecretMetas(
  db: Queryable,
  slug: string,
): Promise<Array<SecretMeta & { id: number }>> {
  return db
    .select(SECRET_META)
    .from(sourceSecrets)
    .where(eq(sourceSecrets.source, slug))
    .orderBy(asc(sourceSecrets.id));
}

/** Creates a source and its secrets in one transaction; null when the slug is taken. */
export async function insertSource(
  db: Queryable,
  input: { slug: string; provider: string; enabled: boolean; secrets: SealedSecret[] },
  who: Actor,
): Promise<SourceRow | null> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(sources)
      .values({ slug: input.slug, provider: input.provider, enabled: input.enabled })
      .onConflictDoNothing()
      .returning();
    if (!row) return null;
    if (input.secrets.length > 0) {
      await tx.insert(sourceSecrets).values(input.secrets.map((s) => ({ ...s, source: input.slug })));
    }
    await insertAudit(tx, who, 'source_create', input.slug, {
      provider: input.provider,
      enabled: input.enabled,
      secrets: input.secrets.length,
    });
    return row;
  });
}

/**
 * Turns a source on or off and, when `secrets` is given, replaces its secret list; one transaction.
 * Null when there is no such source.
 */
export async function updateSource(
  db: Queryable,
  slug: string,
  patch: { enabled?: boolean; secrets?: SealedSecret[] },
  who: Actor,
): Promise<SourceRow | null> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(sources)
      .set({ ...(patch.enabled === undefined ? {} : { enabled: patch.enabled }), updatedAt: sql`now()` })
      .where(eq(sources.slug, slug))
      .returning();
    if (!row) return null;
    if (patch.secrets) {
      await tx.delete(sourceSecrets).where(eq(sourceSecrets.source, slug));
      if (patch.secrets.length > 0) {
        await tx.insert(sourceSecrets).values(patch.secrets.map((s) => ({ ...s, source: slug })));
      }
    }
    await insertAudit(tx, who, 'source_update', slug, {
      enabled: patch.enabled,
      secrets_replaced: patch.secrets?.length,
    });
    return row;
  });
}
