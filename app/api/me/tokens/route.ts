import { listTokens } from '@/db/queries/users';
import { authed, ok, parseBody } from '@/lib/api/route';
import { createTokenBody } from '@/lib/api/schemas';
import { createToken } from '@/lib/auth/people';
import { requireUser } from '@/lib/auth/require';
import { getDb } from '@/lib/db';

export const dynamic = 'force-dynamic';

export const GET = authed('viewer', async (_request, who) =>
  ok(await listTokens(await getDb(), requireUser(who).userId)),
);

export const POST = authed('viewer', async (request, who) => {
  const body = await parseBody(createTokenBody, request);
  return ok(await createToken(requireUser(who), body), { status: 201 });
});
