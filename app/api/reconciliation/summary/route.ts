import { authed, ok, parseQuery } from '@/lib/api/route';
import { reconciliationSummaryQuerySchema } from '@/lib/api/schemas';
import { getDb } from '@/lib/db';
import { reconciliationSummary } from '@/lib/reconciliation/summary';

export const dynamic = 'force-dynamic';

/** Counts per class (and how many the provider still retries), the webhooks seen, the latest runs. */
export const GET = authed('viewer', async (request) => {
  const { webhook_id, ...filter } = parseQuery(reconciliationSummaryQuerySchema, request);
  return ok(await reconciliationSummary(await getDb(), { ...filter, webhookId: webhook_id }));
});
