import { type NextRequest, NextResponse } from 'next/server';
import { SESSION_COOKIE } from '@/lib/auth/cookie';

/**
 * A convenience redirect for pages when there is no session cookie at all. The real check (is the
 * session valid?) is in every page's server component and every API route.
 */
export function proxy(request: NextRequest) {
  if (request.cookies.has(SESSION_COOKIE)) return NextResponse.next();
  const url = request.nextUrl.clone();
  url.pathname = '/login';
  url.search = `?next=${encodeURIComponent(request.nextUrl.pathname + request.nextUrl.search)}`;
  return NextResponse.redirect(url);
}

export const config = {
  matcher: [
    '/',
    '/deliveries/:path*',
    '/dlq/:path*',
    '/webhooks/:path*',
    '/audit/:path*',
    '/users/:path*',
    '/account/:path*',
  ],
};
