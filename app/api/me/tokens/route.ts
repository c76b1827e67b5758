import { listTokens } from '@/db/queries/users';
import { authed, ok, parseBody } from '@/lib/api/route';
import { createTokenBody } from '@/lib/api/schemas';
import { createToken } from '@/lib/auth/people';
import { requireUser } from '@/lib/auth/require';
import { getDb } from '@/lib/db';
import { AppError } from '@/lib/errors';

export const dynamic = 'force-dynamic';

export const GET = authed('viewer', async (_request, who) =>
  ok(await listTokens(await getDb(), requireUser(who).userId)),
);

export const POST = authed('viewer', async (request, who) => {
  // A token that could make tokens would outlive its own revocation: a leaked one would leave another.
  if (who.via !== 'cookie') throw new AppError('forbidden', 'Create API tokens from a logged-in session');
  const body = await parseBody(createTokenBody, request);
  return ok(await createToken(requireUser(who), body), { status: 201 });
});
