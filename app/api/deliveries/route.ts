import { getDb } from '@/db/client';
import { listDeliveries } from '@/db/queries/deliveries';
import { decodeCursor } from '@/lib/api/cursor';
import { authed, ok, parseQuery } from '@/lib/api/route';
import { deliveriesQuery } from '@/lib/api/schemas';
import { HEADER_DELIVERY, HEADER_EVENT } from '@/lib/providers/skylight/protocol';

export const dynamic = 'force-dynamic';

export const GET = authed('viewer', async (request) => {
  const { limit, cursor, ...filters } = parseQuery(deliveriesQuery, request);
  const page = await listDeliveries(
    await getDb(),
    filters,
    { limit, cursor: cursor ? decodeCursor(cursor) : undefined },
    { delivery: HEADER_DELIVERY, event: HEADER_EVENT },
  );
  return ok(page.rows, { nextId: page.nextId });
});
