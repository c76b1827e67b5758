import { authed, clientIp, ok } from '@/lib/api/route';
import { logout } from '@/lib/auth/login';
import { clearedSessionCookie, tokenFromCookieHeader } from '@/lib/auth/session';

export const dynamic = 'force-dynamic';

export const POST = authed(async (request, session) => {
  await logout(tokenFromCookieHeader(request.headers.get('cookie')), session.actor, clientIp(request));
  const res = ok({ logged_in: false });
  res.headers.append('Set-Cookie', clearedSessionCookie());
  return res;
});
