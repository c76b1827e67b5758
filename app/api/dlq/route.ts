import { listDeadLetters } from '@/db/queries/dlq';
import { hasContentFilter, searchProgress } from '@/db/queries/search';
import { decodeCursor } from '@/lib/api/cursor';
import { authed, ok, parseQuery } from '@/lib/api/route';
import { dlqQuerySchema } from '@/lib/api/schemas';
import { getDb } from '@/lib/db';

export const dynamic = 'force-dynamic';

export const GET = authed('viewer', async (request) => {
  const { limit, cursor, ...filters } = parseQuery(dlqQuerySchema, request);
  const db = await getDb();
  const page = await listDeadLetters(db, filters, {
    limit,
    cursor: cursor ? decodeCursor(cursor) : undefined,
  });
  // A content search says how far the search index has got.
  const meta = hasContentFilter(filters) ? { search: await searchProgress(db) } : undefined;
  return ok(page.rows, { nextId: page.nextId, meta });
});
