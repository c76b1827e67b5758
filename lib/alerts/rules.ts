import type { AlertRule, AlertRuleRow, AlertSeverity } from '@/db/schema';

/** Whose side a rule's trouble is on, for the overview's verdict. */
export type Side = 'provider' | 'ours';

export type RuleDefinition = {
  label: string;
  /** What it watches, for the settings table. */
  description: string;
  severity: AlertSeverity;
  side: Side;
  threshold: number;
  /** What the threshold means, with its unit; null when the rule has none. */
  thresholdLabel: string | null;
  windowMinutes: number;
  /** What the window means; null when the rule has none. */
  windowLabel: string | null;
};

/** The defaults an operator starts from (README, "Alerts"). */
export const RULE_DEFINITIONS: Record<AlertRule, RuleDefinition> = {
  webhook_disabled: {
    label: 'Webhook disabled',
    description:
      "The provider's webhook for a source is inactive, deleted, or no longer points at this app (management API watchdog).",
    severity: 'critical',
    side: 'provider',
    threshold: 0,
    thresholdLabel: null,
    windowMinutes: 0,
    windowLabel: null,
  },
  signature_failures: {
    label: 'Signature failures',
    description: 'A burst of refused signed-looking requests: usually a secret rotated on one side only.',
    severity: 'critical',
    side: 'ours',
    threshold: 5,
    thresholdLabel: 'refused requests',
    windowMinutes: 5,
    windowLabel: 'within minutes',
  },
  provider_failed: {
    label: 'Provider failed deliveries',
    description: "The provider's delivery log shows deliveries to us that it could not deliver.",
    severity: 'critical',
    side: 'provider',
    threshold: 1,
    thresholdLabel: 'failed deliveries',
    windowMinutes: 60,
    windowLabel: 'within minutes',
  },
  silence: {
    label: 'Event type silent',
    description:
      'An event type that flowed steadily (20+ active minutes in the last 24 h) is quiet for longer than its usual gaps.',
    severity: 'warning',
    side: 'provider',
    threshold: 3,
    thresholdLabel: '× its usual longest gap',
    windowMinutes: 10,
    windowLabel: 'minimum silence, minutes',
  },
  lag_high: {
    label: 'Delivery lag high',
    description: 'p95 delay from the provider’s event time to our receipt (rarely > 2 s normally).',
    severity: 'warning',
    side: 'provider',
    threshold: 10_000,
    thresholdLabel: 'p95 ms',
    windowMinutes: 5,
    windowLabel: 'over minutes',
  },
  backlog: {
    label: 'Backlog',
    description: 'Events due for processing that no worker has picked up.',
    severity: 'warning',
    side: 'ours',
    threshold: 300,
    thresholdLabel: 'oldest waiting, seconds',
    windowMinutes: 0,
    windowLabel: null,
  },
  dlq_growth: {
    label: 'Dead letters growing',
    description:
      'Dead letters per source as a share of the deliveries accepted in the window (at least 3, and the share shown with 95 % confidence, so a few unlucky deliveries early in a window do not page): one incident per outage instead of one message per dead letter, and quiet for the odd bad payload.',
    severity: 'warning',
    side: 'ours',
    threshold: 10,
    thresholdLabel: '% of accepted deliveries',
    windowMinutes: 15,
    windowLabel: 'within minutes',
  },
  storage: {
    label: 'Storage',
    description: 'Database size past the limit, or under 10 % of the disk free (where the disk can be read).',
    severity: 'critical',
    side: 'ours',
    threshold: 20,
    thresholdLabel: 'database GB',
    windowMinutes: 0,
    windowLabel: null,
  },
  payload_drift: {
    label: 'Payload changed',
    description:
      'The provider changed a payload: a new field, a field that always came and stopped, or a type change (README, "Payload changes").',
    severity: 'warning',
    side: 'provider',
    threshold: 1,
    thresholdLabel: 'changes found',
    windowMinutes: 60,
    windowLabel: 'within minutes',
  },
  malformed: {
    label: 'Malformed deliveries',
    description:
      'Signed deliveries we answered 200 but could not read (the envelope changed, or our parser is wrong): their events are not queued.',
    severity: 'critical',
    side: 'ours',
    threshold: 1,
    thresholdLabel: 'malformed deliveries',
    windowMinutes: 15,
    windowLabel: 'within minutes',
  },
  receiver_unavailable: {
    label: 'Receiver answering 503',
    description:
      'Deliveries we answered 503 (the database down, busy or locked, or too many bodies from one address): the provider retries each until its retry window ends, then drops it.',
    severity: 'critical',
    side: 'ours',
    threshold: 5,
    thresholdLabel: 'deliveries answered 503',
    windowMinutes: 5,
    windowLabel: 'within minutes',
  },
  provider_notice: {
    label: 'Provider notice',
    description:
      "The provider told us it failed to deliver: Sly's webhook.dlq (it gave up on a delivery) or webhook.failing (a webhook keeps failing).",
    severity: 'critical',
    side: 'provider',
    threshold: 1,
    thresholdLabel: 'notices',
    windowMinutes: 60,
    windowLabel: 'within minutes',
  },
  rule_blind: {
    label: 'A rule cannot look',
    description:
      "Another rule could not check for longer than the window: the provider's API refused or failed (a revoked API key, an outage), or its query failed. What that rule watches for would go unseen meanwhile; its incidents stay as they were.",
    severity: 'critical',
    side: 'ours',
    threshold: 0,
    thresholdLabel: null,
    windowMinutes: 5,
    windowLabel: 'minutes unable to look',
  },
};

export type EffectiveRule = {
  rule: AlertRule;
  enabled: boolean;
  threshold: number;
  windowMinutes: number;
  /** Changed from the defaults by someone (and who, when). */
  updated_by: string | null;
  updated_at: Date | null;
};

/** The rules as they run: each default, overridden by its row when an operator changed it. */
export function effectiveRules(overrides: readonly AlertRuleRow[]): EffectiveRule[] {
  const byRule = new Map(overrides.map((o) => [o.rule, o]));
  return (Object.keys(RULE_DEFINITIONS) as AlertRule[]).map((rule) => {
    const o = byRule.get(rule);
    const d = RULE_DEFINITIONS[rule];
    return {
      rule,
      enabled: o?.enabled ?? true,
      threshold: o?.threshold ?? d.threshold,
      windowMinutes: o?.windowMinutes ?? d.windowMinutes,
      updated_by: o?.updatedBy ?? null,
      updated_at: o?.updatedAt ?? null,
    };
  });
}
