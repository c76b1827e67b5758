import { createHash, randomBytes } from 'node:crypto';
import { deleteSession, pruneSessions, putSession, sessionExpiry } from '@/db/queries/settings';
import { getDb } from '@/lib/db';
import { env } from '@/lib/env';
import { SESSION_COOKIE } from './cookie';

export { SESSION_COOKIE };

export const SESSION_TTL_MS = 12 * 3_600_000;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

/** Stores a new session and returns its token (the cookie value). */
export async function createSession(now = new Date()): Promise<{ token: string; expiresAt: Date }> {
  const db = await getDb();
  await pruneSessions(db, now);
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
  await putSession(db, hashToken(token), expiresAt);
  return { token, expiresAt };
}

export async function isValidSession(token: string | undefined | null, now = new Date()): Promise<boolean> {
  if (!token || !TOKEN_RE.test(token)) return false;
  const expiresAt = await sessionExpiry(await getDb(), hashToken(token));
  return expiresAt !== null && expiresAt > now;
}

export async function destroySession(token: string | undefined | null): Promise<void> {
  if (token && TOKEN_RE.test(token)) await deleteSession(await getDb(), hashToken(token));
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
