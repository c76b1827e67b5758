import { countDeadLetters } from '@/db/queries/dlq';
import { authed, ok, parseQuery } from '@/lib/api/route';
import { dlqCountQuerySchema } from '@/lib/api/schemas';
import { getDb } from '@/lib/db';

export const dynamic = 'force-dynamic';

/**
 * How many dead letters a bulk retry with the same filter would re-queue (for the confirmation), and
 * how many of them failed transiently or permanently.
 */
export const GET = authed('viewer', async (request) => {
  const filter = parseQuery(dlqCountQuerySchema, request);
  return ok(await countDeadLetters(await getDb(), filter));
});
