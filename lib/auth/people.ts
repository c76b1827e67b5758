import { randomBytes } from 'node:crypto';
import { type Actor, insertAudit } from '@/db/queries/audit';
import {
  activeUserRole,
  deleteSession,
  deleteUserSessions,
  getPasswordHash,
  insertToken,
  insertUser,
  lockUserAndActiveAdmins,
  replacePasswordHash,
  revokeToken,
  revokeUserTokens,
  setPasswordHash,
  updateUser as updateUserRow,
} from '@/db/queries/users';
import type { Role } from '@/db/schema';
import { getDb } from '@/lib/db';
import { AppError } from '@/lib/errors';
import { generatePassword, hashPassword, verifyHash } from './password';
import { loginLimiters } from './rate-limit';
import { TOKEN_PREFIX } from './require';
import { hasRole } from './roles';
import { accountDisabled, createSession, hashToken } from './session';

/**
 * Creates a person. Without a password, a one-time one is generated and answered once (only its
 * hash is stored). Creating a user is audited in the same transaction.
 */
export async function createUser(who: Actor, input: { email: string; role: Role; password?: string }) {
  // Emails compare lower-cased everywhere (login, the unique index, the audit filter).
  const v = { ...input, email: input.email.trim().toLowerCase() };
  const password = v.password ?? generatePassword();
  const passwordHash = await hashPassword(password);
  const db = await getDb();
  const user = await db.transaction(async (tx) => {
    const row = await insertUser(tx, { email: v.email, role: v.role, passwordHash });
    if (!row) throw new AppError('conflict', `A user with the email ${v.email} exists`);
    await insertAudit(tx, who, 'user_create', v.email, { role: v.role });
    return row;
  });
  return { user, password: v.password ? null : password };
}

/**
 * Changes a role or disables/enables a user. Disabling deletes the user's sessions and revokes their
 * API tokens in the same transaction: a person disabled after a compromise and enabled later comes
 * back with no token an intruder may have made. The last active admin cannot be demoted or disabled,
 * so the dashboard always has someone who can manage people.
 */
export async function updateUser(who: Actor, id: number, v: { role?: Role; disabled?: boolean }) {
  const db = await getDb();
  return db.transaction(async (tx) => {
    const { user: before, otherActiveAdmins } = await lockUserAndActiveAdmins(tx, id);
    if (!before) throw new AppError('not_found', `User ${id} not found`);
    const roleChanges = v.role !== undefined && v.role !== before.role;
    const disabledChanges = v.disabled !== undefined && v.disabled !== (before.disabled_at !== null);
    // Nothing to change: answered as it is, and not audited as a change.
    if (!roleChanges && !disabledChanges) return before;
    const losesAdmin =
      before.role === 'admin' &&
      before.disabled_at === null &&
      ((v.role && v.role !== 'admin') || v.disabled);
    if (losesAdmin && otherActiveAdmins === 0) {
      throw new AppError('conflict', 'This is the last active admin: make another admin first');
    }
    const row = (await updateUserRow(tx, id, v))!;
    let tokensRevoked = 0;
    if (v.disabled) {
      await deleteUserSessions(tx, id);
      tokensRevoked = await revokeUserTokens(tx, id);
    }
    await insertAudit(tx, who, 'user_update', before.email, {
      ...(roleChanges ? { role: { from: before.role, to: v.role } } : {}),
      ...(disabledChanges ? { disabled: v.disabled } : {}),
      ...(tokensRevoked > 0 ? { tokens_revoked: tokensRevoked } : {}),
    });
    return row;
  });
}

/**
 * An admin sets a new one-time password for a person (forgotten, or after a compromise: the old one
 * may be known) and every session of theirs ends. Their API tokens stay; disabling them is what
 * revokes those. The password is answered once; only its hash is stored.
 */
export async function resetPassword(who: Actor, id: number) {
  const password = generatePassword();
  const passwordHash = await hashPassword(password);
  const db = await getDb();
  const user = await db.transaction(async (tx) => {
    // Locked in the same order as a role change or disable, so the two wait for each other.
    const { user: target } = await lockUserAndActiveAdmins(tx, id);
    if (!target) throw new AppError('not_found', `User ${id} not found`);
    await setPasswordHash(tx, id, passwordHash);
    const sessionsEnded = await deleteUserSessions(tx, id);
    await insertAudit(tx, who, 'password_reset', target.email, { sessions_ended: sessionsEnded });
    return target;
  });
  return { user, password };
}

/** The login limiter's tag for a wrong current password (lib/auth/rate-limit.ts). */
const PASSWORD_CHANGE = 'password change';

/**
 * Changes the caller's own password after checking the current one. Every session of the user ends
 * (on every replica: sessions are read from the database) and a fresh one is opened for the caller.
 */
export async function changePassword(
  who: Actor & { userId: number },
  v: { current: string; next: string },
  client: { ip: string | null; userAgent: string | null },
) {
  const db = await getDb();
  // A wrong current password is a guess at the account's password (from a stolen session, say): it
  // counts against the account's login cap, before the check as a login does, and is audited.
  const { perAccount } = loginLimiters();
  const wait = perAccount.retryAfterS(who.actor);
  if (wait !== null) {
    throw new AppError('rate_limited', `Too many wrong passwords; try again in ${wait} s`, {
      retryAfterS: wait,
    });
  }
  const undo = perAccount.fail(who.actor, PASSWORD_CHANGE);
  let checked: string | null;
  let right: boolean;
  try {
    checked = await getPasswordHash(db, who.userId);
    right = checked !== null && (await verifyHash(v.current, checked));
  } catch (err) {
    // The check itself failed (the database is down, say): no password was wrong.
    undo();
    throw err;
  }
  if (!right || checked === null) {
    await insertAudit(db, who, 'password_change', who.actor, null, {
      result: 'refused',
      code: 'wrong_password',
    });
    throw new AppError('bad_request', 'Invalid body: current_password: wrong password', {
      issues: [{ path: 'current_password', message: 'wrong password' }],
    });
  }
  perAccount.forgive(who.actor, PASSWORD_CHANGE);
  const nextHash = await hashPassword(v.next);
  await db.transaction(async (tx) => {
    // Only over the password just checked, of an account still enabled: an admin's reset or disable
    // that committed while this request ran is not undone by it.
    if (!(await replacePasswordHash(tx, who.userId, checked, nextHash))) {
      if ((await activeUserRole(tx, who.userId)) === null) throw accountDisabled();
      throw new AppError('conflict', 'Your password was changed meanwhile (by an admin?): log in again');
    }
    await deleteUserSessions(tx, who.userId);
    await insertAudit(tx, who, 'password_change', who.actor);
  });
  return createSession(who.userId, client);
}

export async function revokeSession(who: Actor & { userId: number }, sessionId: number): Promise<void> {
  const db = await getDb();
  await db.transaction(async (tx) => {
    if (!(await deleteSession(tx, who.userId, sessionId))) {
      throw new AppError('not_found', `Session ${sessionId} not found`);
    }
    await insertAudit(tx, who, 'session_revoke', String(sessionId));
  });
}

/** A personal API token with a role no higher than the owner's; the secret is answered once. */
export async function createToken(
  who: Actor & { userId: number; role: Role },
  v: { name: string; role: Role },
) {
  if (!hasRole(who.role, v.role)) {
    throw new AppError('forbidden', `A token cannot have a higher role than yours (${who.role})`);
  }
  const secret = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const db = await getDb();
  const row = await db.transaction(async (tx) => {
    // The role and the account as they are now, not as the request found them: a disable or a
    // demotion that committed while this request was read is not undone by a token made after it.
    const role = await activeUserRole(tx, who.userId);
    if (role === null) throw accountDisabled();
    if (!hasRole(role, v.role)) {
      throw new AppError('forbidden', `A token cannot have a higher role than yours (${role})`);
    }
    const t = await insertToken(tx, {
      userId: who.userId,
      name: v.name,
      role: v.role,
      tokenHash: hashToken(secret),
      last4: secret.slice(-4),
    });
    await insertAudit(tx, who, 'token_create', v.name, { role: v.role, id: t.id });
    return t;
  });
  return { ...row, token: secret };
}

export async function revokeTokenOf(who: Actor & { userId: number }, tokenId: number) {
  const db = await getDb();
  return db.transaction(async (tx) => {
    const r = await revokeToken(tx, who.userId, tokenId);
    if (!r) throw new AppError('not_found', `API token ${tokenId} not found`);
    // Revoked before: answered the same, audited once.
    if (r.revoked) await insertAudit(tx, who, 'token_revoke', r.row.name, { id: tokenId });
    return r.row;
  });
}
