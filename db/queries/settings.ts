import { eq, like } from 'drizzle-orm';
import type { Queryable } from '../client';
import { settings } from '../schema';

export async function getSetting(db: Queryable, key: string): Promise<string | null> {
  const rows = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, key));
  return rows[0]?.value ?? null;
}

/** Inserts unless the key exists; true when this call wrote it (so exactly one replica wins). */
export async function insertSettingIfAbsent(db: Queryable, key: string, value: string): Promise<boolean> {
  const rows = await db
    .insert(settings)
    .values({ key, value })
    .onConflictDoNothing({ target: settings.key })
    .returning({ key: settings.key });
  return rows.length > 0;
}

/** Sessions of the single-password dashboard (`session:<hash>`), void once users exist. */
export async function deleteLegacySessions(db: Queryable): Promise<void> {
  await db.delete(settings).where(like(settings.key, 'session:%'));
}
