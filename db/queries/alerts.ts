import { and, asc, desc, eq, gt, inArray, isNull, lt, ne, sql } from 'drizzle-orm';
import { type Queryable, rowsOf } from '../client';
import { ConflictError, NotFoundError } from '../errors';
import { keysetPage } from '../paging';
import {
  type AlertRule,
  type AlertSeverity,
  type AlertState,
  type AlertTransition,
  alertNotifications,
  alertRules,
  alerts,
  jobLeases,
  settings,
} from '../schema';
import { type Actor, insertAudit } from './audit';

/** The columns of GET /api/alerts, in the contract's names. */
export const ALERT_COLUMNS = {
  id: alerts.id,
  rule: alerts.rule,
  subject: alerts.subject,
  severity: alerts.severity,
  state: alerts.state,
  summary: alerts.summary,
  detail: alerts.detail,
  opened_at: alerts.openedAt,
  last_seen_at: alerts.lastSeenAt,
  acknowledged_at: alerts.acknowledgedAt,
  acknowledged_by: alerts.acknowledgedBy,
  resolved_at: alerts.resolvedAt,
};

export type AlertView = {
  id: number;
  rule: AlertRule;
  subject: string;
  severity: AlertSeverity;
  state: AlertState;
  summary: string;
  detail: Record<string, unknown>;
  opened_at: Date;
  last_seen_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  resolved_at: Date | null;
};

// ---- Lease: one evaluator at a time across replicas ----

/**
 * Takes or renews the named lease; true when `holder` holds it until now + ttl. The upsert's WHERE
 * runs under the row lock, so of two replicas asking at once exactly one wins.
 */
export async function acquireLease(db: Queryable, name: string, holder: string, ttlMs: number) {
  const res = await db.execute(sql`
    insert into ${jobLeases} (name, holder, expires_at)
    values (${name}, ${holder}, now() + make_interval(secs => ${ttlMs / 1000}))
    on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
     where ${jobLeases.holder} = excluded.holder or ${jobLeases.expiresAt} < now()
    returning holder`);
  return rowsOf(res).length > 0;
}

// ---- Rule settings ----

export async function listRuleOverrides(db: Queryable) {
  return db.select().from(alertRules);
}

export async function upsertRule(
  db: Queryable,
  rule: AlertRule,
  values: { enabled: boolean; threshold: number; windowMinutes: number },
  who: Actor,
) {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(alertRules)
      .values({ rule, ...values, updatedBy: who.actor })
      .onConflictDoUpdate({
        target: alertRules.rule,
        set: { ...values, updatedBy: who.actor, updatedAt: sql`now()` },
      })
      .returning();
    await insertAudit(tx, who, 'alert_rule_update', rule, values);
    return row!;
  });
}

// ---- Incidents ----

export type AlertListFilter = { state?: AlertState | 'active' };

/** Newest first; `active` is open and acknowledged together (the page shows them above the history). */
export async function listAlerts(
  db: Queryable,
  f: AlertListFilter,
  page: { limit: number; cursor?: number },
) {
  const where =
    f.state === 'active' ? ne(alerts.state, 'resolved') : f.state ? eq(alerts.state, f.state) : undefined;
  const rows = await db
    .select(ALERT_COLUMNS)
    .from(alerts)
    .where(and(where, page.cursor !== undefined ? lt(alerts.id, page.cursor) : undefined))
    .orderBy(desc(alerts.id))
    .limit(page.limit + 1);
  return keysetPage(rows as AlertView[], page.limit);
}

/** A rule's incidents that are not resolved: subject and the detail of the last round. */
export async function activeIncidents(db: Queryable, rule: AlertRule) {
  return db
    .select({ subject: alerts.subject, detail: alerts.detail })
    .from(alerts)
    .where(and(eq(alerts.rule, rule), ne(alerts.state, 'resolved')));
}

/** Acknowledged: someone is on it. The channel hears about it like any other state change. */
export async function acknowledgeAlert(
  db: Queryable,
  id: number,
  who: Actor,
  text: (a: AlertView) => string,
) {
  return db.transaction(async (tx) => {
    const rows = (await tx
      .update(alerts)
      .set({ state: 'acknowledged', acknowledgedAt: sql`now()`, acknowledgedBy: who.actor })
      .where(and(eq(alerts.id, id), eq(alerts.state, 'open')))
      .returning(ALERT_COLUMNS)) as AlertView[];
    const a = rows[0];
    if (!a) {
      const [e] = await tx.select({ state: alerts.state }).from(alerts).where(eq(alerts.id, id));
      if (!e) throw new NotFoundError('Alert', id);
      throw new ConflictError(`Alert ${id} is ${e.state}, not open`);
    }
    await tx.insert(alertNotifications).values({ alertId: id, transition: 'acknowledged', text: text(a) });
    await insertAudit(tx, who, 'alert_acknowledge', String(id), { rule: a.rule, subject: a.subject });
    return a;
  });
}

/** Open and acknowledged incidents per rule (the alerts_open gauge on every replica). */
export async function activeCounts(db: Queryable) {
  const res = await db.execute(sql`
    select rule, state, count(*)::int as n from ${alerts} where state <> 'resolved' group by rule, state`);
  return rowsOf<{ rule: AlertRule; state: AlertState; n: number }>(res).map((r) => ({
    ...r,
    n: Number(r.n),
  }));
}

// ---- Applying one evaluation ----

export type Finding = {
  rule: AlertRule;
  subject: string;
  severity: AlertSeverity;
  summary: string;
  detail: Record<string, unknown>;
};

export type ApplyOptions = {
  now: Date;
  /** Rules whose condition was observed this round; alerts of other rules are left as they are. */
  observed: ReadonlySet<AlertRule>;
  /** Rules switched off: their incidents resolve now. */
  disabled: ReadonlySet<AlertRule>;
  /** How long a condition must stay clear before its incident resolves. */
  resolveAfterMs: number;
  /** A condition back within this time of its resolution reopens the same incident. */
  reopenWithinMs: number;
  /** The evaluator's lease, renewed in the same transaction: a round that outlived it changes nothing. */
  lease: { name: string; holder: string; ttlMs: number };
  /** Evaluator memory to store with the round (settings keys), under the same lease. */
  memory?: Record<string, unknown>;
  text: (t: AlertTransition, a: AlertView) => string;
};

/** `quiet`: a reopen the channel was never told the resolution of, so it is not told again. */
export type Change = { transition: AlertTransition; alert: AlertView; quiet?: boolean };

/**
 * Turns one round's findings into incident state changes, in one transaction with their outbox rows:
 * a new condition opens (or reopens) one incident; a present one refreshes it; an absent one marks it
 * clear, and resolves it once it has been clear for `resolveAfterMs` (so a flapping condition stays
 * one incident). The channel hears a resolution only once it has held for `reopenWithinMs`.
 */
export async function applyEvaluation(
  db: Queryable,
  findings: Finding[],
  o: ApplyOptions,
): Promise<Change[] | null> {
  return db.transaction(async (tx) => {
    // A slow round (a provider answering in 30 s per call) can outlive its lease while another
    // replica takes over: its findings are stale then, and two rounds must not apply at once. The
    // renewal holds the lease row until this commits.
    if (!(await acquireLease(tx, o.lease.name, o.lease.holder, o.lease.ttlMs))) return null;
    for (const [key, value] of Object.entries(o.memory ?? {})) await writeMemory(tx, key, value);
    const changes: Change[] = [];
    const active = (await tx
      .select({ ...ALERT_COLUMNS, clear_since: alerts.clearSince })
      .from(alerts)
      .where(ne(alerts.state, 'resolved'))) as Array<AlertView & { clear_since: Date | null }>;
    const key = (rule: string, subject: string) => `${rule}\u0000${subject}`;
    const byKey = new Map(active.map((a) => [key(a.rule, a.subject), a]));
    const seen = new Set<string>();
    for (const f of findings) {
      const k = key(f.rule, f.subject);
      seen.add(k);
      const current = byKey.get(k);
      if (current) {
        const [updated] = (await tx
          .update(alerts)
          .set({
            summary: f.summary,
            detail: f.detail,
            severity: f.severity,
            lastSeenAt: o.now,
            clearSince: null,
          })
          .where(eq(alerts.id, current.id))
          .returning(ALERT_COLUMNS)) as AlertView[];
        // The deadline passed while the incident was open (or acknowledged): events are now lost,
        // and the channel hears it whatever state the incident is in.
        if (f.detail.lost === true && current.detail.lost !== true && updated) {
          changes.push({ transition: 'lost', alert: updated });
        }
        continue;
      }
      const [recent] = (await tx
        .select(ALERT_COLUMNS)
        .from(alerts)
        .where(
          and(
            eq(alerts.rule, f.rule),
            eq(alerts.subject, f.subject),
            eq(alerts.state, 'resolved'),
            gt(alerts.resolvedAt, new Date(o.now.getTime() - o.reopenWithinMs)),
          ),
        )
        .orderBy(desc(alerts.resolvedAt))
        .limit(1)) as AlertView[];
      // A resolution still held back (below) is withdrawn: for the channel the incident never ended.
      // Only one never claimed: a claim moves next_attempt_at off its held value (and a post may be
      // under way), and one that came due is the channel's to hear, followed by "reopened".
      const heldUntil = recent?.resolved_at
        ? new Date(recent.resolved_at.getTime() + o.reopenWithinMs)
        : null;
      const withdrawn =
        recent && heldUntil
          ? await tx
              .delete(alertNotifications)
              .where(
                and(
                  eq(alertNotifications.alertId, recent.id),
                  eq(alertNotifications.transition, 'resolved'),
                  isNull(alertNotifications.deliveredAt),
                  isNull(alertNotifications.abandonedAt),
                  eq(alertNotifications.attempts, 0),
                  eq(alertNotifications.nextAttemptAt, heldUntil),
                  gt(alertNotifications.nextAttemptAt, sql`now()`),
                ),
              )
              .returning({ id: alertNotifications.id })
          : [];
      const quiet = withdrawn.length > 0;
      // Quietly back, an acknowledged incident stays acknowledged (the channel's last word about it).
      const keepsAck = quiet && recent?.acknowledged_at != null;
      const values = {
        severity: f.severity,
        summary: f.summary,
        detail: f.detail,
        lastSeenAt: o.now,
        clearSince: null,
        state: keepsAck ? ('acknowledged' as const) : ('open' as const),
      };
      // ON CONFLICT on the partial unique index: a racing evaluator's row is refreshed, not doubled.
      const rows = recent
        ? await tx
            .update(alerts)
            .set({
              ...values,
              resolvedAt: null,
              ...(keepsAck ? {} : { acknowledgedAt: null, acknowledgedBy: null }),
            })
            .where(eq(alerts.id, recent.id))
            .returning(ALERT_COLUMNS)
        : await tx
            .insert(alerts)
            .values({ rule: f.rule, subject: f.subject, openedAt: o.now, ...values })
            .onConflictDoNothing({
              target: [alerts.rule, alerts.subject],
              where: sql`${alerts.state} <> 'resolved'`,
            })
            .returning(ALERT_COLUMNS);
      const a = rows[0] as AlertView | undefined;
      if (a) changes.push({ transition: recent ? 'reopened' : 'opened', alert: a, quiet });
    }
    for (const a of active) {
      if (seen.has(key(a.rule, a.subject))) continue;
      const off = o.disabled.has(a.rule);
      if (!off && !o.observed.has(a.rule)) continue;
      const since = a.clear_since;
      if (!off && (since === null || o.now.getTime() - since.getTime() < o.resolveAfterMs)) {
        if (since === null) await tx.update(alerts).set({ clearSince: o.now }).where(eq(alerts.id, a.id));
        continue;
      }
      const [r] = (await tx
        .update(alerts)
        .set({ state: 'resolved', resolvedAt: o.now })
        .where(and(eq(alerts.id, a.id), ne(alerts.state, 'resolved')))
        .returning(ALERT_COLUMNS)) as AlertView[];
      if (r) changes.push({ transition: 'resolved', alert: r });
    }
    const told = changes.filter((c) => !c.quiet);
    if (told.length > 0) {
      await tx.insert(alertNotifications).values(
        told.map((c) => ({
          alertId: c.alert.id,
          transition: c.transition,
          text: o.text(c.transition, c.alert),
          createdAt: o.now,
          // A resolution is told once it has held for the reopen window: a condition that comes and
          // goes (refusals in the provider's retry bursts) is one incident and two messages, not a
          // resolved/reopened pair per burst. The Alerts page shows it resolved at once.
          ...(c.transition === 'resolved'
            ? { nextAttemptAt: new Date(o.now.getTime() + o.reopenWithinMs) }
            : {}),
        })),
      );
    }
    return changes;
  });
}

// ---- Channel outbox ----

/**
 * Claims the notifications due now, oldest first: each is leased for `leaseMs` (its next attempt
 * moved past the post's timeout) with SKIP LOCKED, so replicas running the channel job side by side
 * post each message once. A replica that dies mid-post leaves the row to be posted again when the
 * lease runs out (at least once, never lost).
 */
export async function claimDueNotifications(db: Queryable, limit: number, leaseMs: number) {
  const res = await db.execute(sql`
    update ${alertNotifications} n
       set next_attempt_at = now() + make_interval(secs => ${leaseMs / 1000})
     where n.id in (
       select id from ${alertNotifications}
        where delivered_at is null and abandoned_at is null and next_attempt_at <= now()
        order by id
        limit ${limit}
        for update skip locked)
    returning n.id, n.alert_id as "alertId", n.transition, n.text, n.attempts`);
  return rowsOf<{ id: number; alertId: number; transition: string; text: string; attempts: number }>(res)
    .map((r) => ({ ...r, id: Number(r.id), alertId: Number(r.alertId) }))
    .sort((a, b) => a.id - b.id);
}

export async function markNotification(
  db: Queryable,
  id: number,
  outcome: { delivered: true } | { delivered: false; error: string; retryInMs: number | null },
) {
  await db
    .update(alertNotifications)
    .set(
      outcome.delivered
        ? { deliveredAt: sql`now()`, attempts: sql`${alertNotifications.attempts} + 1`, lastError: null }
        : {
            attempts: sql`${alertNotifications.attempts} + 1`,
            lastError: outcome.error.slice(0, 500),
            ...(outcome.retryInMs === null
              ? { abandonedAt: sql`now()` }
              : { nextAttemptAt: sql`now() + make_interval(secs => ${outcome.retryInMs / 1000})` }),
          },
    )
    .where(eq(alertNotifications.id, id));
}

/** Moves claimed notifications' next attempt to `ms` from now (the channel asked to wait). */
export async function postponeNotifications(db: Queryable, ids: number[], ms: number) {
  if (ids.length === 0) return;
  await db
    .update(alertNotifications)
    .set({ nextAttemptAt: sql`now() + make_interval(secs => ${ms / 1000})` })
    .where(inArray(alertNotifications.id, ids));
}

/** The channel's state for the Alerts page: what is waiting, and the last failure. */
export async function channelStatus(db: Queryable) {
  const res = await db.execute(sql`
    select count(*) filter (where delivered_at is null and abandoned_at is null)::int as pending,
           count(*) filter (where delivered_at is not null)::int as delivered,
           count(*) filter (where abandoned_at is not null)::int as abandoned,
           max(created_at) filter (where delivered_at is not null) as last_delivered_at
      from ${alertNotifications} where created_at > now() - interval '7 days'`);
  const r = rowsOf<{
    pending: number;
    delivered: number;
    abandoned: number;
    last_delivered_at: string | null;
  }>(res)[0];
  const [failure] = await db
    .select({ error: alertNotifications.lastError, attempts: alertNotifications.attempts })
    .from(alertNotifications)
    .where(and(isNull(alertNotifications.deliveredAt), sql`${alertNotifications.lastError} is not null`))
    .orderBy(desc(alertNotifications.id))
    .limit(1);
  return {
    pending: Number(r?.pending ?? 0),
    delivered: Number(r?.delivered ?? 0),
    abandoned: Number(r?.abandoned ?? 0),
    last_delivered_at: r?.last_delivered_at ? new Date(r.last_delivered_at) : null,
    last_error: failure?.error ?? null,
  };
}

export async function notificationsOf(db: Queryable, alertIds: number[]) {
  if (alertIds.length === 0) return [];
  return db
    .select({
      alert_id: alertNotifications.alertId,
      transition: alertNotifications.transition,
      created_at: alertNotifications.createdAt,
      delivered_at: alertNotifications.deliveredAt,
      attempts: alertNotifications.attempts,
      last_error: alertNotifications.lastError,
    })
    .from(alertNotifications)
    .where(inArray(alertNotifications.alertId, alertIds))
    .orderBy(asc(alertNotifications.id));
}

// ---- Evaluator memory (what the watchdog has seen), in the settings table ----

export async function readMemory<T>(db: Queryable, key: string, fallback: T): Promise<T> {
  const [row] = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, key));
  if (!row) return fallback;
  try {
    return JSON.parse(row.value) as T;
  } catch {
    return fallback;
  }
}

export async function writeMemory(db: Queryable, key: string, value: unknown) {
  const text = JSON.stringify(value);
  await db
    .insert(settings)
    .values({ key, value: text })
    .onConflictDoUpdate({ target: settings.key, set: { value: text } });
}

// ---- The evaluator's own health, in the settings table (every replica reads it) ----

const EVALUATED_KEY = 'alerts:evaluated_at';
const STALE_NOTICE_KEY = 'alerts:stale_notice_at';

/** Records, in the database's time, that an evaluation round finished. */
export async function markEvaluated(db: Queryable) {
  await db.execute(sql`
    insert into ${settings} (key, value) values (${EVALUATED_KEY}, now()::text)
    on conflict (key) do update set value = excluded.value`);
}

/** Seconds since any replica last finished an evaluation round; null: none has yet. */
export async function evaluationAgeS(db: Queryable): Promise<number | null> {
  const res = await db.execute(sql`
    select extract(epoch from now() - value::timestamptz)::float8 as age
      from ${settings} where key = ${EVALUATED_KEY}`);
  const age = rowsOf<{ age: number | string }>(res)[0]?.age;
  return age === undefined ? null : Number(age);
}

/**
 * True for the one caller, across replicas, that may send the stale-evaluation notice now: at most
 * one per `everyMs`. `releaseStaleNotice` gives the turn back when the notice could not be sent.
 */
export async function claimStaleNotice(db: Queryable, everyMs: number): Promise<boolean> {
  const res = await db.execute(sql`
    insert into ${settings} (key, value) values (${STALE_NOTICE_KEY}, now()::text)
    on conflict (key) do update set value = excluded.value
     where ${settings.value}::timestamptz < now() - make_interval(secs => ${everyMs / 1000})
    returning 1`);
  return rowsOf(res).length > 0;
}

export async function releaseStaleNotice(db: Queryable) {
  await db.delete(settings).where(eq(settings.key, STALE_NOTICE_KEY));
}
