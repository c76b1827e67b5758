import type { Queryable } from '@/db/client';
import {
  latestRuns,
  type ReconciliationFilter,
  reconciledCounts,
  reconciledWebhooks,
} from '@/db/queries/reconciliation';
import { RECONCILIATION_CLASSES } from '@/db/schema';

/** Every class with its count (zero included, so the page's cards never move), webhooks and runs. */
export async function reconciliationSummary(db: Queryable, f: Omit<ReconciliationFilter, 'class'>) {
  const [counts, webhooks, runs] = await Promise.all([
    reconciledCounts(db, f),
    reconciledWebhooks(db),
    latestRuns(db, 5),
  ]);
  const byClass = new Map(counts.map((c) => [c.class, c]));
  return {
    counts: RECONCILIATION_CLASSES.map((c) => ({
      class: c,
      count: byClass.get(c)?.count ?? 0,
      retrying: byClass.get(c)?.retrying ?? 0,
    })),
    webhooks: webhooks.map((w) => ({ provider: w.provider, webhook_id: w.webhookId, source: w.source })),
    runs,
  };
}
