import { and, desc, eq, gte, inArray, lt, type SQL } from 'drizzle-orm';
import type { Queryable } from '../client';
import { keysetPage } from '../paging';
import { type AuditAction, type AuditResult, auditLog } from '../schema';

/** Who made a change: an email (or `DASHBOARD_API_TOKEN`), the client's address, and which API token. */
export type Actor = { actor: string; ip: string | null; tokenName?: string | null };

export async function insertAudit(
  db: Queryable,
  who: Actor,
  action: AuditAction,
  target: string | null,
  detail: Record<string, unknown> | null = null,
  outcome: { result: AuditResult; code?: string } = { result: 'ok' },
): Promise<void> {
  await db.insert(auditLog).values({
    actor: who.actor,
    ip: who.ip,
    tokenName: who.tokenName ?? null,
    action,
    target,
    detail,
    result: outcome.result,
    code: outcome.code ?? null,
  });
}

export type AuditFilter = { actor?: string; action?: AuditAction; from?: Date; to?: Date };

function auditWhere(f: AuditFilter, cursor?: number): SQL | undefined {
  return and(
    // Emails are stored lower-cased (a person typing theirs capitalised still finds it); other
    // actors (DASHBOARD_API_TOKEN) as written. Both by the actor index.
    f.actor === undefined
      ? undefined
      : inArray(auditLog.actor, [...new Set([f.actor, f.actor.toLowerCase()])]),
    f.action === undefined ? undefined : eq(auditLog.action, f.action),
    f.from === undefined ? undefined : gte(auditLog.at, f.from),
    f.to === undefined ? undefined : lt(auditLog.at, f.to),
    cursor === undefined ? undefined : lt(auditLog.id, cursor),
  );
}

export async function listAudit(db: Queryable, f: AuditFilter & { limit: number; cursor?: number }) {
  const rows = await db
    .select({
      id: auditLog.id,
      at: auditLog.at,
      actor: auditLog.actor,
      token_name: auditLog.tokenName,
      action: auditLog.action,
      target: auditLog.target,
      result: auditLog.result,
      code: auditLog.code,
      detail: auditLog.detail,
      ip: auditLog.ip,
    })
    .from(auditLog)
    .where(auditWhere(f, f.cursor))
    .orderBy(desc(auditLog.id))
    .limit(f.limit + 1);
  return keysetPage(rows, f.limit);
}

export type AuditListRow = Awaited<ReturnType<typeof listAudit>>['rows'][number];

/** Every matching row, newest first, a page at a time: memory stays one page however many match. */
export async function* iterateAudit(db: Queryable, f: AuditFilter, pageSize = 500) {
  let cursor: number | undefined;
  for (;;) {
    const page = await listAudit(db, { ...f, limit: pageSize, cursor });
    yield* page.rows;
    if (page.nextId === null) return;
    cursor = page.nextId;
  }
}
