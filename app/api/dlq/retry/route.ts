import { retryDeadLetters } from '@/db/queries/dlq';
import { authed, ok, parseBody } from '@/lib/api/route';
import { dlqBulkRetryBodySchema } from '@/lib/api/schemas';
import { getDb } from '@/lib/db';
import { runtime } from '@/lib/runtime';

export const dynamic = 'force-dynamic';

export const POST = authed('operator', async (request, who) => {
  const filter = await parseBody(dlqBulkRetryBodySchema, request);
  const result = await retryDeadLetters(await getDb(), filter, who);
  if (result.matched > 0) runtime().worker?.nudge();
  return ok(result, { status: 202 });
});
