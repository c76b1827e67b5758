import { listDeadLetters } from '@/db/queries/dlq';
import { hasContentFilter, searchProgress } from '@/db/queries/search';
import { decodeDlqCursor, encodeDlqCursor } from '@/lib/api/cursor';
import { authed, ok, parseQuery } from '@/lib/api/route';
import { dlqQuerySchema } from '@/lib/api/schemas';
import { getDb } from '@/lib/db';
import { createdBeforeFor, keptUntil } from '@/lib/dlq-retention';
import { env } from '@/lib/env';

export const dynamic = 'force-dynamic';

export const GET = authed('viewer', async (request) => {
  const { limit, cursor, sort, expiring_within_days, ...filters } = parseQuery(dlqQuerySchema, request);
  const db = await getDb();
  const page = await listDeadLetters(
    db,
    {
      ...filters,
      created_before:
        expiring_within_days === undefined
          ? undefined
          : createdBeforeFor(expiring_within_days, env.RETENTION_DAYS),
    },
    { limit, cursor: cursor ? decodeDlqCursor(cursor, sort) : undefined, sort },
  );
  const rows = page.rows.map((r) => ({
    ...r,
    receipts_kept_until: keptUntil(r.created_at, env.RETENTION_DAYS),
  }));
  // A content search says how far the search index has got.
  const meta = hasContentFilter(filters) ? { search: await searchProgress(db) } : undefined;
  return ok(rows, { nextCursor: page.nextCursor && encodeDlqCursor(page.nextCursor), meta });
});
