import { listDeliveries } from '@/db/queries/deliveries';
import { decodeCursor } from '@/lib/api/cursor';
import { authed, ok, parseQuery } from '@/lib/api/route';
import { deliveriesQuerySchema } from '@/lib/api/schemas';
import { getDb } from '@/lib/db';

export const dynamic = 'force-dynamic';

export const GET = authed('viewer', async (request) => {
  const { limit, cursor, ...filters } = parseQuery(deliveriesQuerySchema, request);
  const page = await listDeliveries(await getDb(), filters, {
    limit,
    cursor: cursor ? decodeCursor(cursor) : undefined,
  });
  return ok(page.rows, { nextId: page.nextId });
});
