import { listDeadLetters } from '@/db/queries/dlq';
import { decodeCursor } from '@/lib/api/cursor';
import { authed, ok, parseQuery } from '@/lib/api/route';
import { dlqQuerySchema } from '@/lib/api/schemas';
import { getDb } from '@/lib/db';

export const dynamic = 'force-dynamic';

export const GET = authed('viewer', async (request) => {
  const { limit, cursor, ...filters } = parseQuery(dlqQuerySchema, request);
  const page = await listDeadLetters(await getDb(), filters, {
    limit,
    cursor: cursor ? decodeCursor(cursor) : undefined,
  });
  return ok(page.rows, { nextId: page.nextId });
});
