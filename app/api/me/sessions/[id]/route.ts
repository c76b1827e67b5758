import { authed, ok, parseParams } from '@/lib/api/route';
import { idParamSchema } from '@/lib/api/schemas';
import { revokeSession } from '@/lib/auth/people';
import { requireUser } from '@/lib/auth/require';

export const dynamic = 'force-dynamic';

export const DELETE = authed<{ id: string }>('viewer', async (_request, who, params) => {
  const { id } = parseParams(idParamSchema, params);
  await revokeSession(requireUser(who), id);
  return ok({ revoked: true });
});
