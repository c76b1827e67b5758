import { and, count, desc, eq, lt, sql } from 'drizzle-orm';
import type { Queryable } from '../client';
import { sandboxDeliveries, sandboxWebhooks, settings } from '../schema';
import { type Actor, insertAudit } from './audit';

// Provider-side state of the embedded SkyLight sandbox (lib/providers/skylight/sandbox/store-db.ts).

export type SandboxWebhookRow = typeof sandboxWebhooks.$inferSelect;
export type SandboxWebhookInsert = Omit<typeof sandboxWebhooks.$inferInsert, 'id'>;
export type SandboxDeliveryRow = typeof sandboxDeliveries.$inferSelect;
export type SandboxDeliveryInsert = Omit<typeof sandboxDeliveries.$inferInsert, 'id'>;
type DeliveryStatus = SandboxDeliveryRow['status'];

export async function listSandboxWebhooks(db: Queryable): Promise<SandboxWebhookRow[]> {
  return db.select().from(sandboxWebhooks).orderBy(sandboxWebhooks.id);
}

export async function getSandboxWebhook(db: Queryable, id: number): Promise<SandboxWebhookRow | null> {
  const rows = await db.select().from(sandboxWebhooks).where(eq(sandboxWebhooks.id, id));
  return rows[0] ?? null;
}

export async function insertSandboxWebhook(db: Queryable, values: SandboxWebhookInsert) {
  const rows = await db.insert(sandboxWebhooks).values(values).returning();
  return rows[0]!;
}

export async function updateSandboxWebhook(
  db: Queryable,
  id: number,
  patch: Partial<SandboxWebhookInsert>,
): Promise<SandboxWebhookRow | null> {
  const rows = await db
    .update(sandboxWebhooks)
    .set({ ...patch, updatedAt: sql`now()` })
    .where(eq(sandboxWebhooks.id, id))
    .returning();
  return rows[0] ?? null;
}

/** Deleting a webhook deletes its delivery log (foreign key cascade). */
export async function deleteSandboxWebhook(db: Queryable, id: number): Promise<boolean> {
  const rows = await db
    .delete(sandboxWebhooks)
    .where(eq(sandboxWebhooks.id, id))
    .returning({ id: sandboxWebhooks.id });
  return rows.length > 0;
}

export async function countSandboxDeliveries(db: Queryable): Promise<Map<number, number>> {
  const rows = await db
    .select({ webhookId: sandboxDeliveries.webhookId, n: count() })
    .from(sandboxDeliveries)
    .groupBy(sandboxDeliveries.webhookId);
  return new Map(rows.map((r) => [r.webhookId, Number(r.n)]));
}

export async function insertSandboxDelivery(db: Queryable, values: SandboxDeliveryInsert) {
  const rows = await db.insert(sandboxDeliveries).values(values).returning();
  return rows[0]!;
}

export async function finishSandboxDelivery(
  db: Queryable,
  id: number,
  result: Pick<SandboxDeliveryRow, 'status' | 'responseStatusCode' | 'responseBody'>,
) {
  await db
    .update(sandboxDeliveries)
    .set({ ...result, nextAttemptAt: null, updatedAt: sql`now()` })
    .where(eq(sandboxDeliveries.id, id));
}

export async function pendingSandboxDeliveries(db: Queryable): Promise<SandboxDeliveryRow[]> {
  return db
    .select()
    .from(sandboxDeliveries)
    .where(eq(sandboxDeliveries.status, 'pending'))
    .orderBy(sandboxDeliveries.id);
}

export async function failPendingSandboxDeliveries(
  db: Queryable,
  webhookId: number,
  reason: string,
): Promise<number[]> {
  const rows = await db
    .update(sandboxDeliveries)
    .set({ status: 'failed', responseBody: reason, nextAttemptAt: null, updatedAt: sql`now()` })
    .where(and(eq(sandboxDeliveries.webhookId, webhookId), eq(sandboxDeliveries.status, 'pending')))
    .returning({ id: sandboxDeliveries.id });
  return rows.map((r) => r.id);
}

/**
 * One page of a webhook's delivery log, newest first. SkyLight's API pages by number, so this pages
 * with OFFSET; the (webhook_id, id) index keeps it an index walk, and the log is pruned by age.
 */
export async function listSandboxDeliveries(
  db: Queryable,
  webhookId: number,
  opts: { status?: DeliveryStatus; limit: number; offset: number },
): Promise<{ items: SandboxDeliveryRow[]; total: number }> {
  const where = and(
    eq(sandboxDeliveries.webhookId, webhookId),
    opts.status ? eq(sandboxDeliveries.status, opts.status) : undefined,
  );
  const [items, totals] = await Promise.all([
    db
      .select()
      .from(sandboxDeliveries)
      .where(where)
      .orderBy(desc(sandboxDeliveries.id))
      .limit(opts.limit)
      .offset(opts.offset),
    db.select({ n: count() }).from(sandboxDeliveries).where(where),
  ]);
  return { items, total: Number(totals[0]?.n ?? 0) };
}

/** Drops finished delivery-log rows older than `before`; pending ones are kept until they finish. */
export async function pruneSandboxDeliveries(db: Queryable, before: Date): Promise<number> {
  const rows = await db
    .delete(sandboxDeliveries)
    .where(and(lt(sandboxDeliveries.createdAt, before), sql`${sandboxDeliveries.status} <> 'pending'`))
    .returning({ id: sandboxDeliveries.id });
  return rows.length;
}

// The demo's simulated downstream outage (embedded sandbox only): kept across restarts, so an outage
// the operator ended stays ended. Absent: the demo starts in an outage.
const OUTAGE_KEY = 'sandbox:downstream_outage';

export async function sandboxOutageSetting(db: Queryable): Promise<boolean> {
  const rows = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, OUTAGE_KEY));
  return rows[0]?.value !== 'off';
}

/** Records the switch and who flipped it, in one transaction. */
export async function setSandboxOutageSetting(db: Queryable, on: boolean, who: Actor) {
  await db.transaction(async (tx) => {
    await tx
      .insert(settings)
      .values({ key: OUTAGE_KEY, value: on ? 'on' : 'off' })
      .onConflictDoUpdate({ target: settings.key, set: { value: on ? 'on' : 'off' } });
    await insertAudit(tx, who, 'sandbox_outage', 'downstream', { outage: on });
  });
}
