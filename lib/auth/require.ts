import { env } from '@/lib/env';
import { AppError } from '@/lib/errors';
import { safeEqual } from './password';
import { isValidSession, tokenFromCookieHeader } from './session';

export type Session = { via: 'cookie' | 'token'; actor: string };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Authenticates an API request: `Authorization: Bearer $DASHBOARD_API_TOKEN`, or the session
 * cookie. With a cookie, state-changing methods also need an Origin equal to our own, because
 * SameSite alone does not cover every browser and sub-domain case.
 */
export async function requireSession(request: Request): Promise<Session> {
  const auth = request.headers.get('authorization');
  if (auth !== null) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m && env.DASHBOARD_API_TOKEN && safeEqual(m[1]!, env.DASHBOARD_API_TOKEN)) {
      return { via: 'token', actor: 'api_token' };
    }
    throw new AppError('unauthorized', 'Invalid API token');
  }
  const token = tokenFromCookieHeader(request.headers.get('cookie'));
  if (!(await isValidSession(token))) throw new AppError('unauthorized', 'Log in first');
  if (!SAFE_METHODS.has(request.method) && !isSameOrigin(request)) {
    throw new AppError('forbidden', 'Cross-origin request refused');
  }
  return { via: 'cookie', actor: 'dashboard' };
}

/** Origin must match the URL the request was made to (as seen directly or through a proxy). */
export function isSameOrigin(request: Request): boolean {
  const origin = request.headers.get('origin');
  if (!origin) return false;
  const allowed = new Set([new URL(request.url).origin]);
  const host = request.headers.get('x-forwarded-host') ?? request.headers.get('host');
  if (host) {
    const proto = request.headers.get('x-forwarded-proto') ?? new URL(request.url).protocol.replace(':', '');
    allowed.add(`${proto.split(',')[0]!.trim()}://${host.split(',')[0]!.trim()}`);
  }
  return allowed.has(origin);
}
