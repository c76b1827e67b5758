import { listEvents } from '@/db/queries/events';
import { decodeCursor } from '@/lib/api/cursor';
import { authed, ok, parseQuery } from '@/lib/api/route';
import { eventsQuerySchema } from '@/lib/api/schemas';
import { getDb } from '@/lib/db';

export const dynamic = 'force-dynamic';

export const GET = authed('viewer', async (request) => {
  const { limit, cursor, ...filters } = parseQuery(eventsQuerySchema, request);
  const page = await listEvents(await getDb(), filters, {
    limit,
    cursor: cursor ? decodeCursor(cursor) : undefined,
  });
  return ok(page.rows, { nextId: page.nextId });
});
