import { getDb } from '@/db/client';
import { retryDeadLetters } from '@/db/queries/dlq';
import { authed, ok, parseBody } from '@/lib/api/route';
import { dlqBulkRetryBody } from '@/lib/api/schemas';
import { runtime } from '@/lib/runtime';

export const dynamic = 'force-dynamic';

export const POST = authed('operator', async (request, who) => {
  const filter = await parseBody(dlqBulkRetryBody, request);
  const result = await retryDeadLetters(await getDb(), filter, who);
  if (result.matched > 0) runtime().worker?.nudge();
  return ok(result, { status: 202 });
});
