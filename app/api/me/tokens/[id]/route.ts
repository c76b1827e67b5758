import { authed, ok, parseParams } from '@/lib/api/route';
import { idParamSchema } from '@/lib/api/schemas';
import { revokeTokenOf } from '@/lib/auth/people';
import { requireUser } from '@/lib/auth/require';

export const dynamic = 'force-dynamic';

export const DELETE = authed<{ id: string }>('viewer', async (_request, who, params) => {
  const { id } = parseParams(idParamSchema, params);
  return ok(await revokeTokenOf(requireUser(who), id));
});
