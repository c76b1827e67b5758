import { tokenPrincipal, touchToken } from '@/db/queries/users';
import { getDb } from '@/lib/db';
import { env } from '@/lib/env';
import { AppError } from '@/lib/errors';
import { safeEqual } from './password';
import { hasRole, lesserRole, type Role } from './roles';
import { hashToken, sessionUser, tokenFromCookieHeader } from './session';

/**
 * Who is making a request. `actor` is what the audit names: the person's email, or
 * `DASHBOARD_API_TOKEN` for the configured admin token. `tokenName` says which personal API token.
 */
export type Principal = {
  via: 'cookie' | 'token' | 'env_token';
  userId: number | null;
  actor: string;
  role: Role;
  sessionId: number | null;
  tokenName: string | null;
};

export const ENV_TOKEN_ACTOR = 'DASHBOARD_API_TOKEN';
/** Personal API tokens start with this, so a leaked one is recognisable (and greppable). */
export const TOKEN_PREFIX = 'swo_';
const TOKEN_RE = /^swo_[A-Za-z0-9_-]{43}$/;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Authenticates an API request: `Authorization: Bearer <token>` (a personal API token or
 * DASHBOARD_API_TOKEN), or the session cookie. Every check reads the database, so a disabled user,
 * a revoked token or session, or a changed role counts on every replica from the next request on.
 * With a cookie, state-changing methods also need an Origin equal to our own, because SameSite
 * alone does not cover every browser and sub-domain case.
 */
export async function authenticate(request: Request): Promise<Principal> {
  const auth = request.headers.get('authorization');
  if (auth !== null) return fromBearer(auth);
  const row = await sessionUser(tokenFromCookieHeader(request.headers.get('cookie')));
  if (!row) throw new AppError('unauthorized', 'Log in first');
  if (!SAFE_METHODS.has(request.method) && !isSameOrigin(request)) {
    throw new AppError('forbidden', 'Cross-origin request refused');
  }
  return {
    via: 'cookie',
    userId: row.userId,
    actor: row.email,
    role: row.role,
    sessionId: row.sessionId,
    tokenName: null,
  };
}

async function fromBearer(auth: string): Promise<Principal> {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
  const presented = m?.[1];
  if (presented && env.DASHBOARD_API_TOKEN && safeEqual(presented, env.DASHBOARD_API_TOKEN)) {
    return {
      via: 'env_token',
      userId: null,
      actor: ENV_TOKEN_ACTOR,
      role: 'admin',
      sessionId: null,
      tokenName: null,
    };
  }
  if (presented && TOKEN_RE.test(presented)) {
    const db = await getDb();
    const row = await tokenPrincipal(db, hashToken(presented));
    if (row) {
      if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000)
        await touchToken(db, row.tokenId);
      return {
        via: 'token',
        userId: row.userId,
        actor: row.email,
        role: lesserRole(row.tokenRole, row.userRole),
        sessionId: null,
        tokenName: row.tokenName,
      };
    }
  }
  throw new AppError('unauthorized', 'Invalid API token');
}

export function requireRole(who: Principal, needed: Role): void {
  if (!hasRole(who.role, needed)) {
    throw new AppError(
      'forbidden',
      `This needs the ${needed} role; you are ${article(who.role)} ${who.role}`,
    );
  }
}

const article = (role: Role) => (role === 'viewer' ? 'a' : 'an');

/**
 * Origin must name the host the request was sent to. X-Forwarded-Host and -Proto count only with
 * TRUST_PROXY: otherwise any client could claim whatever origin it sends.
 */
export function isSameOrigin(request: Request): boolean {
  const origin = request.headers.get('origin');
  if (!origin) return false;
  const allowed = new Set([new URL(request.url).origin]);
  const host = request.headers.get('host');
  if (host) {
    allowed.add(`http://${host}`);
    allowed.add(`https://${host}`);
  }
  const fwdHost = request.headers.get('x-forwarded-host')?.split(',')[0]?.trim();
  if (env.TRUST_PROXY !== false && env.TRUST_PROXY !== 0 && fwdHost) {
    const proto = request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim() ?? 'https';
    allowed.add(`${proto}://${fwdHost}`);
  }
  return allowed.has(origin);
}

/** For the caller's own account (sessions, tokens, password): the configured admin token has none. */
export function requireUser<T extends Principal>(who: T): T & { userId: number } {
  if (who.userId === null) {
    throw new AppError('forbidden', 'DASHBOARD_API_TOKEN belongs to no user; use a personal token or log in');
  }
  return who as T & { userId: number };
}
