import { desc, lt } from 'drizzle-orm';
import type { Queryable } from '../client';
import { keysetPage } from '../paging';
import { type AuditAction, auditLog } from '../schema';

export type Actor = { actor: string; ip: string | null };

export async function insertAudit(
  db: Queryable,
  who: Actor,
  action: AuditAction,
  target: string | null,
  detail: Record<string, unknown> | null = null,
): Promise<void> {
  await db.insert(auditLog).values({ actor: who.actor, ip: who.ip, action, target, detail });
}

export async function listAudit(db: Queryable, page: { limit: number; cursor?: number }) {
  const rows = await db
    .select({
      id: auditLog.id,
      at: auditLog.at,
      actor: auditLog.actor,
      action: auditLog.action,
      target: auditLog.target,
      detail: auditLog.detail,
      ip: auditLog.ip,
    })
    .from(auditLog)
    .where(page.cursor === undefined ? undefined : lt(auditLog.id, page.cursor))
    .orderBy(desc(auditLog.id))
    .limit(page.limit + 1);
  return keysetPage(rows, page.limit);
}
