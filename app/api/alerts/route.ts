import { alertsPage } from '@/lib/alerts/service';
import { decodeCursor } from '@/lib/api/cursor';
import { authed, ok, parseQuery } from '@/lib/api/route';
import { alertsQuerySchema } from '@/lib/api/schemas';

export const dynamic = 'force-dynamic';

export const GET = authed('viewer', async (request) => {
  const { limit, cursor, ...filter } = parseQuery(alertsQuerySchema, request);
  const page = await alertsPage(filter, { limit, cursor: cursor ? decodeCursor(cursor) : undefined });
  return ok(page.rows, { nextId: page.nextId });
});
