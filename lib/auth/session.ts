import { createHash, randomBytes } from 'node:crypto';
import {
  activeUserRole,
  deleteSessionByHash,
  insertSession,
  pruneSessions,
  sessionPrincipal,
  touchSession,
} from '@/db/queries/users';
import { getDb } from '@/lib/db';
import { env } from '@/lib/env';
import { AppError } from '@/lib/errors';
import { SESSION_COOKIE } from './cookie';

export { SESSION_COOKIE };

export const SESSION_TTL_MS = 12 * 3_600_000;

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

/** Stores a new session for the user and returns its token (the cookie value). */
export async function createSession(
  userId: number,
  client: { ip: string | null; userAgent: string | null },
  now = new Date(),
): Promise<{ token: string; expiresAt: Date }> {
  const db = await getDb();
  await pruneSessions(db);
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
  await db.transaction(async (tx) => {
    // A login checked the account before; a disable may have committed since (lib/auth/people.ts).
    if ((await activeUserRole(tx, userId)) === null) throw accountDisabled();
    await insertSession(tx, {
      tokenHash: hashToken(token),
      userId,
      expiresAt,
      ip: client.ip,
      userAgent: client.userAgent?.slice(0, 300) ?? null,
    });
  });
  return { token, expiresAt };
}

/** The session's user, or null when the token is unknown, expired, or its user is disabled. */
export async function sessionUser(token: string | undefined | null) {
  if (!token || !TOKEN_RE.test(token)) return null;
  const db = await getDb();
  const row = await sessionPrincipal(db, hashToken(token));
  if (row && Date.now() - row.lastSeenAt.getTime() > 60_000) await touchSession(db, row.sessionId);
  return row;
}

export async function destroySession(token: string | undefined | null): Promise<void> {
  if (token && TOKEN_RE.test(token)) await deleteSessionByHash(await getDb(), hashToken(token));
}

export function sessionCookie(token: string, expiresAt: Date): string {
  const secure = env.NODE_ENV === 'production' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Expires=${expiresAt.toUTCString()}${secure}`;
}

export function clearedSessionCookie(): string {
  const secure = env.NODE_ENV === 'production' ? '; Secure' : '';
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure}`;
}

/** The session token from a Cookie header. */
export function tokenFromCookieHeader(header: string | null): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SESSION_COOKIE) return rest.join('=') || null;
  }
  return null;
}

/** A request that passed authentication while its account was being disabled. */
export const accountDisabled = () => new AppError('unauthorized', 'This account is disabled');
