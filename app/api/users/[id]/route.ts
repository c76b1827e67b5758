import { authed, ok, parseBody, parseParams } from '@/lib/api/route';
import { idParamSchema, updateUserBody } from '@/lib/api/schemas';
import { updateUser } from '@/lib/auth/people';

export const dynamic = 'force-dynamic';

export const PATCH = authed<{ id: string }>('admin', async (request, who, params) => {
  const { id } = parseParams(idParamSchema, params);
  const body = await parseBody(updateUserBody, request);
  return ok(await updateUser(who, id, body));
});
