import { type NextRequest, NextResponse } from 'next/server';
import { SESSION_COOKIE } from '@/lib/auth/cookie';
import { errorBody } from '@/lib/errors';

const PAGES = /^\/(?:(?:deliveries|dlq|webhooks|audit)(?:\/.*)?)?$/;

/** False when a path segment is not valid percent-encoded UTF-8 (`%ff`, `%e0%a4`, a bare `%`). */
function decodable(pathname: string): boolean {
  try {
    decodeURIComponent(pathname);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs before Next matches routes. Next decodes dynamic segments itself and answers a bare 500 when
 * that fails, so an undecodable path is refused here, for every route, as the client's mistake.
 * For pages without any session cookie it is also a convenience redirect to /login; the real check
 * (is the session valid?) is in every page's server component and every API route.
 */
export function proxy(request: NextRequest) {
  const { pathname } = request.nextUrl;
  if (!decodable(pathname)) {
    const message = 'Invalid path: malformed percent-encoding';
    return pathname.startsWith('/api/')
      ? NextResponse.json(errorBody('bad_request', message), { status: 400 })
      : new NextResponse(`${message}\n`, { status: 400, headers: { 'Content-Type': 'text/plain' } });
  }
  if (!PAGES.test(pathname) || request.cookies.has(SESSION_COOKIE)) return NextResponse.next();
  const url = request.nextUrl.clone();
  url.pathname = '/login';
  url.search = `?next=${encodeURIComponent(request.nextUrl.pathname + request.nextUrl.search)}`;
  return NextResponse.redirect(url);
}

export const config = {
  // Only paths with a `%` reach the proxy outside the pages: Next copies the body of every proxied
  // POST (up to proxyClientMaxBodySize, next.config.ts) and waits for its end before answering, so a
  // never-ending body on such a path gets the server's 408 instead of an immediate 400.
  matcher: [
    '/',
    '/deliveries/:path*',
    '/dlq/:path*',
    '/webhooks/:path*',
    '/audit/:path*',
    '/users/:path*',
    '/account/:path*',
    '/:path(.*%.*)',
  ],
};
