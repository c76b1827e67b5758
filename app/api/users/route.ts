import { listUsers } from '@/db/queries/users';
import { authed, ok, parseBody } from '@/lib/api/route';
import { createUserBody } from '@/lib/api/schemas';
import { createUser } from '@/lib/auth/people';
import { getDb } from '@/lib/db';

export const dynamic = 'force-dynamic';

export const GET = authed('admin', async () => ok(await listUsers(await getDb())));

export const POST = authed('admin', async (request, who) => {
  const body = await parseBody(createUserBody, request);
  const { user, password } = await createUser(who, body);
  return ok({ ...user, ...(password ? { one_time_password: password } : {}) }, { status: 201 });
});
