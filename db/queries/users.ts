import { and, asc, count, desc, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import type { Queryable } from '../client';
import { apiTokens, type Role, userSessions, users } from '../schema';

const userColumns = {
  id: users.id,
  email: users.email,
  role: users.role,
  disabled_at: users.disabledAt,
  created_at: users.createdAt,
  password_changed_at: users.passwordChangedAt,
};

export async function countUsers(db: Queryable): Promise<number> {
  const [row] = await db.select({ n: count() }).from(users);
  return row?.n ?? 0;
}

export async function listUsers(db: Queryable) {
  return db.select(userColumns).from(users).orderBy(asc(users.id));
}

/**
 * The role of an active user, its row share-locked until the transaction ends; null when the user
 * is disabled or gone. What a session, token or password is written under: a disable that commits
 * first is seen (it locks the row for update), one that comes later waits and then revokes it.
 */
export async function activeUserRole(db: Queryable, id: number): Promise<Role | null> {
  const [row] = await db
    .select({ role: users.role })
    .from(users)
    .where(and(eq(users.id, id), isNull(users.disabledAt)))
    .for('share');
  return row?.role ?? null;
}

/** The row a login checks: hash included, so it never leaves lib/auth. */
export async function findUserForLogin(db: Queryable, email: string) {
  const [row] = await db
    .select({
      id: users.id,
      email: users.email,
      role: users.role,
      passwordHash: users.passwordHash,
      disabledAt: users.disabledAt,
    })
    .from(users)
    .where(eq(users.email, email));
  return row ?? null;
}

export async function getPasswordHash(db: Queryable, userId: number): Promise<string | null> {
  const [row] = await db.select({ h: users.passwordHash }).from(users).where(eq(users.id, userId));
  return row?.h ?? null;
}

/** Inserts unless the email exists; null when it did (the caller says so, or lost a bootstrap race). */
export async function insertUser(db: Queryable, v: { email: string; role: Role; passwordHash: string }) {
  const [row] = await db
    .insert(users)
    .values(v)
    .onConflictDoNothing({ target: users.email })
    .returning(userColumns);
  return row ?? null;
}

export async function updateUser(db: Queryable, id: number, v: { role?: Role; disabled?: boolean }) {
  const [row] = await db
    .update(users)
    .set({
      ...(v.role ? { role: v.role } : {}),
      ...(v.disabled === undefined
        ? {}
        : { disabledAt: v.disabled ? sql`coalesce(${users.disabledAt}, now())` : null }),
    })
    .where(eq(users.id, id))
    .returning(userColumns);
  return row ?? null;
}

/**
 * A user and the other active admins, every one of their rows locked until the transaction ends, in
 * id order (one statement, one order: two changes at once wait for each other, never deadlock). Two
 * admins demoting each other at once are answered one after the other (the second sees the first's
 * change) and cannot leave none; a token or session being written for the user waits, then sees the
 * change (activeUserRole).
 */
export async function lockUserAndActiveAdmins(db: Queryable, id: number) {
  const rows = await db
    .select(userColumns)
    .from(users)
    .where(or(eq(users.id, id), and(eq(users.role, 'admin'), isNull(users.disabledAt))))
    .orderBy(asc(users.id))
    .for('update');
  return {
    user: rows.find((r) => r.id === id) ?? null,
    otherActiveAdmins: rows.filter((r) => r.id !== id && r.role === 'admin' && r.disabled_at === null).length,
  };
}

export async function setPasswordHash(db: Queryable, userId: number, passwordHash: string): Promise<void> {
  await db.update(users).set({ passwordHash, passwordChangedAt: sql`now()` }).where(eq(users.id, userId));
}

/**
 * Replaces the password of an active user only if it is still the one the caller checked: false when
 * an admin reset it or disabled the person meanwhile (one UPDATE, so two at once wait, never deadlock).
 */
export async function replacePasswordHash(
  db: Queryable,
  userId: number,
  checked: string,
  passwordHash: string,
): Promise<boolean> {
  const rows = await db
    .update(users)
    .set({ passwordHash, passwordChangedAt: sql`now()` })
    .where(and(eq(users.id, userId), isNull(users.disabledAt), eq(users.passwordHash, checked)))
    .returning({ id: users.id });
  return rows.length > 0;
}

// ---- sessions ----

export async function insertSession(
  db: Queryable,
  v: { tokenHash: string; userId: number; expiresAt: Date; ip: string | null; userAgent: string | null },
) {
  const [row] = await db.insert(userSessions).values(v).returning({ id: userSessions.id });
  return row!.id;
}

/**
 * The person behind a session token hash, read from the database on every request so that a
 * disabled user, a changed role or a revoked session takes effect at once on every replica.
 */
export async function sessionPrincipal(db: Queryable, tokenHash: string) {
  const [row] = await db
    .select({
      sessionId: userSessions.id,
      userId: users.id,
      email: users.email,
      role: users.role,
      lastSeenAt: userSessions.lastSeenAt,
    })
    .from(userSessions)
    .innerJoin(users, eq(users.id, userSessions.userId))
    .where(
      and(
        eq(userSessions.tokenHash, tokenHash),
        gt(userSessions.expiresAt, sql`now()`),
        isNull(users.disabledAt),
      ),
    );
  return row ?? null;
}

/** At most one write a minute per session, so reads stay reads. */
export async function touchSession(db: Queryable, sessionId: number): Promise<void> {
  await db
    .update(userSessions)
    .set({ lastSeenAt: sql`now()` })
    .where(
      and(eq(userSessions.id, sessionId), lt(userSessions.lastSeenAt, sql`now() - interval '1 minute'`)),
    );
}

export async function listSessions(db: Queryable, userId: number) {
  return db
    .select({
      id: userSessions.id,
      created_at: userSessions.createdAt,
      last_seen_at: userSessions.lastSeenAt,
      expires_at: userSessions.expiresAt,
      ip: userSessions.ip,
      user_agent: userSessions.userAgent,
    })
    .from(userSessions)
    .where(and(eq(userSessions.userId, userId), gt(userSessions.expiresAt, sql`now()`)))
    .orderBy(desc(userSessions.id));
}

/** Deletes one of the user's sessions; false when it is not theirs or already gone. */
export async function deleteSession(db: Queryable, userId: number, sessionId: number): Promise<boolean> {
  const rows = await db
    .delete(userSessions)
    .where(and(eq(userSessions.id, sessionId), eq(userSessions.userId, userId)))
    .returning({ id: userSessions.id });
  return rows.length > 0;
}

export async function deleteSessionByHash(db: Queryable, tokenHash: string): Promise<void> {
  await db.delete(userSessions).where(eq(userSessions.tokenHash, tokenHash));
}

/** Ends every session of a person; returns how many there were. */
export async function deleteUserSessions(db: Queryable, userId: number): Promise<number> {
  const rows = await db
    .delete(userSessions)
    .where(eq(userSessions.userId, userId))
    .returning({ id: userSessions.id });
  return rows.length;
}

export async function pruneSessions(db: Queryable): Promise<void> {
  await db.delete(userSessions).where(lt(userSessions.expiresAt, sql`now()`));
}

// ---- API tokens ----

const tokenColumns = {
  id: apiTokens.id,
  name: apiTokens.name,
  role: apiTokens.role,
  last4: apiTokens.last4,
  created_at: apiTokens.createdAt,
  last_used_at: apiTokens.lastUsedAt,
  revoked_at: apiTokens.revokedAt,
};

export async function insertToken(
  db: Queryable,
  v: { userId: number; name: string; role: Role; tokenHash: string; last4: string },
) {
  const [row] = await db.insert(apiTokens).values(v).returning(tokenColumns);
  return row!;
}

export async function listTokens(db: Queryable, userId: number) {
  return db
    .select(tokenColumns)
    .from(apiTokens)
    .where(eq(apiTokens.userId, userId))
    .orderBy(desc(apiTokens.id));
}

/** Revokes one of the user's tokens; null when it is not theirs. Revoking twice keeps the first time. */
/** Revokes one of a person's tokens: `revoked` false when it was revoked already; null when it is not theirs. */
export async function revokeToken(db: Queryable, userId: number, tokenId: number) {
  const mine = and(eq(apiTokens.id, tokenId), eq(apiTokens.userId, userId));
  const [row] = await db
    .update(apiTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(mine, isNull(apiTokens.revokedAt)))
    .returning(tokenColumns);
  if (row) return { row, revoked: true };
  const [was] = await db.select(tokenColumns).from(apiTokens).where(mine);
  return was ? { row: was, revoked: false } : null;
}

/** Revokes every live token of a person (the person is being disabled); returns how many. */
export async function revokeUserTokens(db: Queryable, userId: number): Promise<number> {
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  return rows.length;
}

/** The token's owner and roles, from the database on every request (a revoked token fails at once). */
export async function tokenPrincipal(db: Queryable, tokenHash: string) {
  const [row] = await db
    .select({
      tokenId: apiTokens.id,
      tokenName: apiTokens.name,
      tokenRole: apiTokens.role,
      lastUsedAt: apiTokens.lastUsedAt,
      userId: users.id,
      email: users.email,
      userRole: users.role,
    })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(and(eq(apiTokens.tokenHash, tokenHash), isNull(apiTokens.revokedAt), isNull(users.disabledAt)));
  return row ?? null;
}

/** Records use at minute resolution: enough for "last used", without a write per request. */
export async function touchToken(db: Queryable, tokenId: number): Promise<void> {
  await db
    .update(apiTokens)
    .set({ lastUsedAt: sql`now()` })
    .where(
      and(
        eq(apiTokens.id, tokenId),
        or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, sql`now() - interval '1 minute'`)),
      ),
    );
}
