import { authed, ok } from '@/lib/api/route';
import { logout } from '@/lib/auth/login';
import { clearedSessionCookie, tokenFromCookieHeader } from '@/lib/auth/session';

export const dynamic = 'force-dynamic';

export const POST = authed('viewer', async (request, who) => {
  await logout(tokenFromCookieHeader(request.headers.get('cookie')), who);
  const res = ok({ logged_in: false });
  res.headers.append('Set-Cookie', clearedSessionCookie());
  return res;
});
