import { authed, ok, parseBody } from '@/lib/api/route';
import { changePasswordBody } from '@/lib/api/schemas';
import { changePassword } from '@/lib/auth/people';
import { requireUser } from '@/lib/auth/require';
import { sessionCookie } from '@/lib/auth/session';
import { AppError } from '@/lib/errors';

export const dynamic = 'force-dynamic';

export const POST = authed('viewer', async (request, who) => {
  if (who.via !== 'cookie') throw new AppError('forbidden', 'Change your password from a logged-in session');
  const body = await parseBody(changePasswordBody, request);
  const { token, expiresAt } = await changePassword(
    requireUser(who),
    { current: body.current_password, next: body.new_password },
    { ip: who.ip, userAgent: request.headers.get('user-agent') },
  );
  const res = ok({ changed: true });
  res.headers.append('Set-Cookie', sessionCookie(token, expiresAt));
  return res;
});
