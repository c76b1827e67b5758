import { getDb } from '@/db/client';
import { listAudit } from '@/db/queries/audit';
import { decodeCursor } from '@/lib/api/cursor';
import { authed, ok, parseQuery } from '@/lib/api/route';
import { auditQuery } from '@/lib/api/schemas';

export const dynamic = 'force-dynamic';

export const GET = authed('viewer', async (request) => {
  const { cursor, ...filter } = parseQuery(auditQuery, request);
  const page = await listAudit(await getDb(), {
    ...filter,
    cursor: cursor ? decodeCursor(cursor) : undefined,
  });
  return ok(page.rows, { nextId: page.nextId });
});
