import { listDeadLetters } from '@/db/queries/dlq';
import { hasContentFilter, searchProgress } from '@/db/queries/search';
import { decodeCursor, decodeTimeCursor, encodeCursor, encodeTimeCursor } from '@/lib/api/cursor';
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
    { limit, cursor: cursor ? dlqCursor(cursor, sort) : undefined, sort },
  );
  const rows = page.rows.map((r) => ({
    ...r,
    receipts_kept_until: keptUntil(r.created_at, env.RETENTION_DAYS),
  }));
  // A content search says how far the search index has got.
  const meta = hasContentFilter(filters) ? { search: await searchProgress(db) } : undefined;
  const next = page.nextCursor;
  const nextCursor =
    next === null
      ? null
      : next.deadUs === undefined
        ? encodeCursor(next.id)
        : encodeTimeCursor({ atUs: next.deadUs, id: next.id });
  return ok(rows, { nextCursor, meta });
});

/** `newest` pages by when each died, `expiring` by id: each takes only its own kind of cursor. */
const dlqCursor = (cursor: string, sort: 'newest' | 'expiring' | undefined) => {
  if (sort === 'expiring') return { id: decodeCursor(cursor) };
  const c = decodeTimeCursor(cursor);
  return { id: c.id, deadUs: c.atUs };
};
