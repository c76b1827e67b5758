import { iterateReconciled } from '@/db/queries/reconciliation';
import { authed, parseQuery } from '@/lib/api/route';
import { reconciliationExportQuerySchema } from '@/lib/api/schemas';
import { exportResponse } from '@/lib/api/stream-export';
import { getDb } from '@/lib/db';
import { RECONCILIATION_EXPORT_COLUMNS, reconciliationView } from '@/lib/reconciliation/view';

export const dynamic = 'force-dynamic';

/** The filtered reconciliation, streamed (CSV for a manual backfill of the lost events). */
export const GET = authed('viewer', async (request) => {
  const { format, webhook_id, ...filter } = parseQuery(reconciliationExportQuerySchema, request);
  const db = await getDb();
  const now = new Date();
  async function* rows() {
    for await (const r of iterateReconciled(db, { ...filter, webhookId: webhook_id })) {
      yield reconciliationView(r, now);
    }
  }
  return exportResponse(rows(), RECONCILIATION_EXPORT_COLUMNS, format, 'reconciliation');
});
