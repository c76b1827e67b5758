import { percentiles } from '@/db/histogram';
import { activeMinutesBySourceType, latencySince } from '@/db/queries/alert-signals';
import {
  type AlertListFilter,
  acknowledgeAlert,
  channelStatus,
  listAlerts,
  listRuleOverrides,
  notificationsOf,
  upsertRule,
} from '@/db/queries/alerts';
import type { Actor } from '@/db/queries/audit';
import type { AlertRule } from '@/db/schema';
import { getDb } from '@/lib/db';
import { env } from '@/lib/env';
import { AppError } from '@/lib/errors';
import { effectiveRules, RULE_DEFINITIONS } from './rules';
import { LEARNING_WINDOW_MS, MIN_ACTIVE_MINUTES } from './silence';
import { transitionText } from './summaries';
import { verdictOf } from './verdict';

/** Our answer-time budget: the ack chart's reference line. */
const ACK_BUDGET_MS = 1000;
const VERDICT_WINDOW_MS = 5 * 60_000;

/** A page of incidents, each with its channel deliveries (when each state change was posted). */
export async function alertsPage(f: AlertListFilter, page: { limit: number; cursor?: number }) {
  const db = await getDb();
  const result = await listAlerts(db, f, page);
  const sent = await notificationsOf(
    db,
    result.rows.map((r) => r.id),
  );
  return {
    ...result,
    rows: result.rows.map((r) => ({ ...r, notifications: sent.filter((n) => n.alert_id === r.id) })),
  };
}

export async function acknowledge(id: number, who: Actor) {
  return acknowledgeAlert(await getDb(), id, who, (a) => transitionText('acknowledged', a));
}

/** Every rule with its definition, current settings, and the alert channel's state beside them. */
export async function rulesView() {
  const db = await getDb();
  const rules = effectiveRules(await listRuleOverrides(db)).map((r) => {
    const d = RULE_DEFINITIONS[r.rule];
    return {
      rule: r.rule,
      label: d.label,
      description: d.description,
      severity: d.severity,
      side: d.side,
      enabled: r.enabled,
      threshold: r.threshold,
      threshold_label: d.thresholdLabel,
      window_minutes: r.windowMinutes,
      window_label: d.windowLabel,
      default_threshold: d.threshold,
      default_window_minutes: d.windowMinutes,
      updated_by: r.updated_by,
      updated_at: r.updated_at,
    };
  });
  const configured = env.ALERT_WEBHOOK_URL
    ? 'ALERT_WEBHOOK_URL'
    : env.NOTIFY_WEBHOOK_URL
      ? 'NOTIFY_WEBHOOK_URL'
      : null;
  return {
    rules,
    channel: { configured, evaluation_interval_ms: env.ALERT_EVAL_INTERVAL_MS, ...(await channelStatus(db)) },
  };
}

export type RulePatch = { enabled?: boolean; threshold?: number; window_minutes?: number };

export async function patchRule(rule: AlertRule, patch: RulePatch, who: Actor) {
  const db = await getDb();
  const current = effectiveRules(await listRuleOverrides(db)).find((r) => r.rule === rule)!;
  const d = RULE_DEFINITIONS[rule];
  if (patch.threshold !== undefined && d.thresholdLabel === null)
    throw new AppError('bad_request', `${rule} has no threshold to set`);
  if (patch.window_minutes !== undefined && d.windowLabel === null)
    throw new AppError('bad_request', `${rule} has no window to set`);
  await upsertRule(
    db,
    rule,
    {
      enabled: patch.enabled ?? current.enabled,
      threshold: patch.threshold ?? current.threshold,
      windowMinutes: patch.window_minutes ?? current.windowMinutes,
    },
    who,
  );
  return (await rulesView()).rules.find((r) => r.rule === rule)!;
}

/** The overview's one line: whose side the trouble is on now, from the open incidents and ack times. */
export async function verdict() {
  const db = await getDb();
  const now = Date.now();
  const { rows } = await listAlerts(db, { state: 'active' }, { limit: 200 });
  const [ackP95] = percentiles(await latencySince(db, new Date(now - VERDICT_WINDOW_MS), 'ack'), [0.95]);
  const flowing = [
    ...(await activeMinutesBySourceType(db, new Date(now - LEARNING_WINDOW_MS))).values(),
  ].filter((t) => t.minutes.length >= MIN_ACTIVE_MINUTES).length;
  return verdictOf({
    active: rows,
    ackP95Ms: ackP95 ?? null,
    ackBudgetMs: ACK_BUDGET_MS,
    flowingTypes: flowing,
  });
}
