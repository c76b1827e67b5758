import { and, eq, like, lt, sql } from 'drizzle-orm';
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

// Dashboard sessions live in `settings` as `session:<sha256 of the token>` → expiry (ISO). The raw
// token is only ever in the cookie, so a database read does not yield a usable session.
const SESSION_PREFIX = 'session:';

export async function putSession(db: Queryable, tokenHash: string, expiresAt: Date): Promise<void> {
  await db.insert(settings).values({ key: SESSION_PREFIX + tokenHash, value: expiresAt.toISOString() });
}

export async function sessionExpiry(db: Queryable, tokenHash: string): Promise<Date | null> {
  const value = await getSetting(db, SESSION_PREFIX + tokenHash);
  return value === null ? null : new Date(value);
}

export async function deleteSession(db: Queryable, tokenHash: string): Promise<void> {
  await db.delete(settings).where(eq(settings.key, SESSION_PREFIX + tokenHash));
}

/** Removes expired sessions; ISO strings in UTC sort by time, so a text comparison is exact. */
export async function pruneSessions(db: Queryable, now = new Date()): Promise<void> {
  await db
    .delete(settings)
    .where(and(like(settings.key, `${SESSION_PREFIX}%`), lt(settings.value, sql`${now.toISOString()}`)));
}
