import { listReconciled } from '@/db/queries/reconciliation';
import { decodeCursor } from '@/lib/api/cursor';
import { authed, ok, parseQuery } from '@/lib/api/route';
import { reconciliationQuerySchema } from '@/lib/api/schemas';
import { getDb } from '@/lib/db';
import { reconciliationView } from '@/lib/reconciliation/view';

export const dynamic = 'force-dynamic';

/** The provider's deliveries as the last reconciliation classified them, newest first. */
export const GET = authed('viewer', async (request) => {
  const { cursor, webhook_id, ...filter } = parseQuery(reconciliationQuerySchema, request);
  const page = await listReconciled(await getDb(), {
    ...filter,
    webhookId: webhook_id,
    cursor: cursor ? decodeCursor(cursor) : undefined,
  });
  const now = new Date();
  return ok(
    page.rows.map((r) => reconciliationView(r, now)),
    { nextId: page.nextId },
  );
});
