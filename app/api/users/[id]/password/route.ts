import { authed, ok, parseParams } from '@/lib/api/route';
import { idParamSchema } from '@/lib/api/schemas';
import { resetPassword } from '@/lib/auth/people';
import { AppError } from '@/lib/errors';

export const dynamic = 'force-dynamic';

/** An admin resets a person's password: a one-time one, answered once; their sessions end. */
export const POST = authed<{ id: string }>('admin', async (_request, who, params) => {
  const { id } = parseParams(idParamSchema, params);
  // A leaked admin token must not take over another admin's account with it.
  if (who.via !== 'cookie') throw new AppError('forbidden', 'Reset passwords from a logged-in session');
  const { user, password } = await resetPassword(who, id);
  return ok({ id: user.id, email: user.email, one_time_password: password });
});
