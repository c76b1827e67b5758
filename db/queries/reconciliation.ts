import { and, count, desc, eq, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Queryable } from '../client';
import { keysetPage } from '../paging';
import {
  type ReconciliationClass,
  type ReconciliationDeliveryInsert,
  reconciliationDeliveries as rd,
  receipts,
  reconciliationRuns as runs,
} from '../schema';
import { ackMsOf } from './deliveries';

const ID_CHUNK = 1000;
const UPSERT_CHUNK = 200;

/** Our receipts for the given delivery ids from one provider: what we answered each request. */
export async function receiptsForDeliveryIds(db: Queryable, provider: string, ids: readonly string[]) {
  const out = [];
  for (let i = 0; i < ids.length; i += ID_CHUNK) {
    const chunk = ids.slice(i, i + ID_CHUNK);
    const rows = await db
      .select({
        id: receipts.id,
        deliveryId: receipts.deliveryId,
        httpStatus: receipts.httpStatus,
        outcome: receipts.outcome,
        reason: receipts.reason,
        ackMs: ackMsOf,
        receivedAt: receipts.receivedAt,
      })
      .from(receipts)
      .where(and(eq(receipts.provider, provider), inArray(receipts.deliveryId, chunk)));
    for (const r of rows) if (r.deliveryId !== null) out.push({ ...r, deliveryId: r.deliveryId });
  }
  return out;
}

/** Stores the latest view of each delivery: one row per (provider, webhook, chain), replaced in place. */
export async function upsertReconciled(
  db: Queryable,
  rows: readonly Omit<ReconciliationDeliveryInsert, 'id' | 'checkedAt'>[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += UPSERT_CHUNK) {
    await db
      .insert(rd)
      .values(rows.slice(i, i + UPSERT_CHUNK).map((r) => ({ ...r, checkedAt: new Date() })))
      .onConflictDoUpdate({
        target: [rd.provider, rd.webhookId, rd.chainKey],
        set: {
          source: sql`excluded.source`,
          deliveryId: sql`excluded.delivery_id`,
          eventType: sql`excluded.event_type`,
          class: sql`excluded.class`,
          providerStatus: sql`excluded.provider_status`,
          exhausted: sql`excluded.exhausted`,
          attemptNumber: sql`excluded.attempt_number`,
          attempts: sql`excluded.attempts`,
          // A run that saw fewer attempts (the older ones fell past its paging window) keeps the first.
          firstSentAt: sql`least(${rd.firstSentAt}, excluded.first_sent_at)`,
          lastSentAt: sql`excluded.last_sent_at`,
          retryDeadlineAt: sql`excluded.retry_deadline_at`,
          providerResponseStatus: sql`excluded.provider_response_status`,
          receiptId: sql`excluded.receipt_id`,
          ourHttpStatus: sql`excluded.our_http_status`,
          ourOutcome: sql`excluded.our_outcome`,
          ourReason: sql`excluded.our_reason`,
          ourAckMs: sql`excluded.our_ack_ms`,
          checkedAt: sql`excluded.checked_at`,
        },
      });
  }
}

export type RunTrigger = 'job' | 'manual';

/**
 * Takes the reconciliation lease: a `running` row (at most one, by a partial unique index). A runner
 * whose lease ran out (a replica that died mid-run) is marked abandoned first. Null when another
 * runner holds it.
 */
export async function startRun(
  db: Queryable,
  opts: { trigger: RunTrigger; actor: string | null; leaseMs: number },
): Promise<number | null> {
  return db.transaction(async (tx) => {
    await tx
      .update(runs)
      .set({ state: 'abandoned', finishedAt: sql`now()`, error: 'lease expired' })
      .where(and(eq(runs.state, 'running'), lt(runs.leaseUntil, sql`now()`)));
    const [row] = await tx
      .insert(runs)
      .values({
        trigger: opts.trigger,
        actor: opts.actor,
        leaseUntil: sql`now() + ${`${opts.leaseMs} milliseconds`}::interval`,
      })
      .onConflictDoNothing()
      .returning({ id: runs.id });
    return row?.id ?? null;
  });
}

export type RunProgress = { webhooks: number; pages: number; providerRows: number; rateLimited: number };

/** Progress, and a longer lease: a run that still reports is alive. False: the lease was lost. */
export async function reportRun(
  db: Queryable,
  id: number,
  p: RunProgress,
  leaseMs: number,
): Promise<boolean> {
  const kept = await db
    .update(runs)
    .set({ ...p, leaseUntil: sql`now() + ${`${leaseMs} milliseconds`}::interval` })
    .where(and(eq(runs.id, id), eq(runs.state, 'running')))
    .returning({ id: runs.id });
  return kept.length > 0;
}

export async function finishRun(
  db: Queryable,
  id: number,
  p: RunProgress & { error: string | null },
): Promise<void> {
  await db
    .update(runs)
    .set({ ...p, state: p.error ? 'failed' : 'done', finishedAt: sql`now()` })
    .where(and(eq(runs.id, id), eq(runs.state, 'running')));
}

export async function latestRuns(db: Queryable, limit = 5) {
  return db
    .select({
      id: runs.id,
      state: runs.state,
      trigger: runs.trigger,
      actor: runs.actor,
      started_at: runs.startedAt,
      finished_at: runs.finishedAt,
      webhooks: runs.webhooks,
      pages: runs.pages,
      provider_rows: runs.providerRows,
      rate_limited: runs.rateLimited,
      error: runs.error,
    })
    .from(runs)
    .orderBy(desc(runs.id))
    .limit(limit);
}

export type ReconciliationFilter = {
  source?: string;
  webhookId?: number;
  class?: ReconciliationClass;
  from?: Date;
  to?: Date;
};

function where(f: ReconciliationFilter, cursor?: number): SQL | undefined {
  return and(
    f.source === undefined ? undefined : eq(rd.source, f.source),
    f.webhookId === undefined ? undefined : eq(rd.webhookId, f.webhookId),
    f.class === undefined ? undefined : eq(rd.class, f.class),
    f.from === undefined ? undefined : gte(rd.lastSentAt, f.from),
    f.to === undefined ? undefined : lt(rd.lastSentAt, f.to),
    cursor === undefined ? undefined : lt(rd.id, cursor),
  );
}

const listColumns = {
  id: rd.id,
  provider: rd.provider,
  webhookId: rd.webhookId,
  source: rd.source,
  deliveryId: rd.deliveryId,
  eventType: rd.eventType,
  class: rd.class,
  providerStatus: rd.providerStatus,
  exhausted: rd.exhausted,
  attemptNumber: rd.attemptNumber,
  attempts: rd.attempts,
  firstSentAt: rd.firstSentAt,
  lastSentAt: rd.lastSentAt,
  retryDeadlineAt: rd.retryDeadlineAt,
  providerResponseStatus: rd.providerResponseStatus,
  receiptId: rd.receiptId,
  ourHttpStatus: rd.ourHttpStatus,
  ourOutcome: rd.ourOutcome,
  ourReason: rd.ourReason,
  ourAckMs: rd.ourAckMs,
  checkedAt: rd.checkedAt,
};

/** Reconciled deliveries, newest first (by first sight), keyset-paged. */
export async function listReconciled(
  db: Queryable,
  f: ReconciliationFilter & { limit: number; cursor?: number },
) {
  const rows = await db
    .select(listColumns)
    .from(rd)
    .where(where(f, f.cursor))
    .orderBy(desc(rd.id))
    .limit(f.limit + 1);
  return keysetPage(rows, f.limit);
}

export type ReconciledRow = Awaited<ReturnType<typeof listReconciled>>['rows'][number];

/** Every matching row, a page at a time, for the streamed export. */
export async function* iterateReconciled(db: Queryable, f: ReconciliationFilter, pageSize = 500) {
  let cursor: number | undefined;
  for (;;) {
    const page = await listReconciled(db, { ...f, limit: pageSize, cursor });
    yield* page.rows;
    if (page.nextId === null) return;
    cursor = page.nextId;
  }
}

/**
 * Counts per class for the filter (the class filter itself ignored), and how many are still retried:
 * a deadline in the past is not "retrying" (the provider has given up since the run that saw it).
 */
export async function reconciledCounts(db: Queryable, f: ReconciliationFilter) {
  const rows = await db
    .select({
      class: rd.class,
      n: count(),
      retrying: sql<number>`count(*) filter (where ${rd.retryDeadlineAt} > now())`,
    })
    .from(rd)
    .where(where({ ...f, class: undefined }))
    .groupBy(rd.class);
  return rows.map((r) => ({ class: r.class, count: Number(r.n), retrying: Number(r.retrying) }));
}

/** The webhooks and sources seen so far, for the page's picker. */
export async function reconciledWebhooks(db: Queryable) {
  return db
    .selectDistinct({ provider: rd.provider, webhookId: rd.webhookId, source: rd.source })
    .from(rd)
    .orderBy(rd.provider, rd.webhookId);
}

/** Drops what is older than the retention: reconciled deliveries by their last attempt, finished runs. */
export async function pruneReconciliation(db: Queryable, before: Date): Promise<void> {
  await db.delete(rd).where(lt(rd.lastSentAt, before));
  await db.delete(runs).where(and(lt(runs.startedAt, before), sql`${runs.state} <> 'running'`));
}
