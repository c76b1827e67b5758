import { statfs } from 'node:fs/promises';
import type { Db } from '@/db/client';
import { errorMessage } from '@/db/errors';
import {
  acquireLease,
  activeCounts,
  applyEvaluation,
  type Change,
  claimDueNotifications,
  type Finding,
  listRuleOverrides,
  markEvaluated,
  markNotification,
  postponeNotifications,
} from '@/db/queries/alerts';
import { ALERT_RULES, type AlertRule } from '@/db/schema';
import { log } from '@/lib/log';
import { NOTIFY_TIMEOUT_MS, postNotification, RateLimitedError, type SlackText } from '@/lib/notify';
import { metrics } from '@/lib/observability/metrics';
import type { ProviderName } from '@/lib/providers/registry';
import type { ManagementClient } from '@/lib/providers/types';
import { PermanentError } from '@/lib/worker/errors';
import { BLIND_MEMORY_KEY, blindRules } from './blind';
import { CHECKS, type CheckContext, type SourceRef } from './checks';
import { type EffectiveRule, effectiveRules } from './rules';
import { type SignatureSummary, transitionText } from './summaries';
import { runWatchdog } from './watchdog';

export const LEASE_NAME = 'alerts';

export type EngineDeps = {
  db: Db;
  /** This replica's name in the lease. */
  holder: string;
  now?: Date;
  sources: () => Promise<SourceRef[]>;
  management: (provider: ProviderName) => Promise<ManagementClient | null>;
  appUrl: string | null;
  retentionDays: number;
  /** The embedded database's folder, whose disk can be read; null on a database server. */
  pgliteDir: string | null;
  resolveAfterMs: number;
  /** How long the lease lasts: a little over the evaluation interval, so a dead holder is replaced. */
  leaseMs: number;
  summarizeSignatures?: SignatureSummary;
};

/** A resolved incident whose condition is back within this time reopens instead of paging again. */
export const REOPEN_WITHIN_MS = 15 * 60_000;

/**
 * One evaluation round: if this replica holds the lease, every enabled rule looks at rollups and
 * counters (and the provider's API), and the findings become incident changes with their outbox rows.
 * Returns null when another replica holds the lease.
 */
export async function evaluateAlerts(d: EngineDeps): Promise<Change[] | null> {
  if (!(await acquireLease(d.db, LEASE_NAME, d.holder, d.leaseMs))) return null;
  const started = performance.now();
  const now = d.now ?? new Date();
  const rules = effectiveRules(await listRuleOverrides(d.db));
  const enabled = new Map(rules.filter((r) => r.enabled).map((r) => [r.rule, r]));
  const sources = await d.sources();
  const failedRule = enabled.get('provider_failed');
  const watchdog =
    enabled.has('webhook_disabled') || failedRule
      ? await runWatchdog({
          db: d.db,
          now,
          sources,
          management: d.management,
          appUrl: d.appUrl,
          failedWindowMinutes: failedRule?.windowMinutes ?? 60,
          failedThreshold: failedRule?.threshold ?? 1,
        }).catch((err) => {
          log.warn({ err: errorMessage(err) }, 'alerts: watchdog failed');
          return {
            webhookDisabled: null,
            providerFailed: null,
            failure: `the watchdog failed: ${errorMessage(err)}`,
          };
        })
      : null;
  const ctx: CheckContext = {
    db: d.db,
    now,
    sources,
    retentionDays: d.retentionDays,
    watchdog,
    disk: () => diskOf(d.pgliteDir),
    summarizeSignatures: d.summarizeSignatures,
  };
  const findings: Finding[] = [];
  const observed = new Set<AlertRule>();
  // Rules that could not look this round, and why: past a few minutes, rule_blind says so.
  const blindNow = new Map<AlertRule, string>();
  const check = async (r: EffectiveRule) => {
    try {
      const result = await CHECKS[r.rule](ctx, r);
      if (result === 'unobserved') {
        blindNow.set(r.rule, watchdog?.failure ?? 'its evidence could not be read');
        return;
      }
      observed.add(r.rule);
      findings.push(...result);
    } catch (err) {
      // One broken rule must not silence the others; its incidents stay as they are.
      log.warn({ rule: r.rule, err: errorMessage(err) }, 'alerts: rule failed');
      blindNow.set(r.rule, `its check failed: ${errorMessage(err)}`);
    }
  };
  for (const r of enabled.values()) if (r.rule !== 'rule_blind') await check(r);
  // No management API configured at all: the provider-side rules have nothing to watch, not a fault.
  if (watchdog === null)
    for (const rule of ['webhook_disabled', 'provider_failed'] as const) blindNow.delete(rule);
  // Tracked whether rule_blind is on, so switching it on later starts from the truth.
  const { blind, memory } = await blindRules(d.db, now, blindNow);
  ctx.blind = blind;
  const blindRule = enabled.get('rule_blind');
  if (blindRule) await check(blindRule);
  const changes = await applyEvaluation(d.db, findings, {
    now,
    observed,
    disabled: new Set(rules.filter((r) => !r.enabled).map((r) => r.rule)),
    resolveAfterMs: d.resolveAfterMs,
    reopenWithinMs: REOPEN_WITHIN_MS,
    text: transitionText,
    lease: { name: LEASE_NAME, holder: d.holder, ttlMs: d.leaseMs },
    memory: { [BLIND_MEMORY_KEY]: memory },
  });
  if (changes === null) {
    log.warn(
      { holder: d.holder },
      'alerts: the round outlived its lease; another replica evaluates, nothing applied',
    );
    return null;
  }
  for (const c of changes) {
    metrics.alertTransitions.inc({ rule: c.alert.rule, transition: c.transition });
    log[c.transition === 'resolved' ? 'info' : 'warn'](
      { alert_id: c.alert.id, rule: c.alert.rule, subject: c.alert.subject, transition: c.transition },
      `alert ${c.transition}: ${c.alert.summary}`,
    );
  }
  await markEvaluated(d.db);
  metrics.alertEvaluationSeconds.observe((performance.now() - started) / 1000);
  return changes;
}

/** Sets alerts_open{rule} on this replica from the table (every replica serves /metrics). */
export async function refreshAlertGauges(db: Db) {
  const counts = await activeCounts(db);
  for (const rule of ALERT_RULES) {
    for (const state of ['open', 'acknowledged'] as const) {
      const n = counts.find((c) => c.rule === rule && c.state === state)?.n ?? 0;
      (state === 'open' ? metrics.alertsOpen : metrics.alertsAcknowledged).set({ rule }, n);
    }
  }
}

const RETRY_MS = [5_000, 15_000, 60_000, 5 * 60_000];

/**
 * Sends what the outbox holds to the alert channel, oldest first, each message once across replicas
 * (claimed with a lease). A channel that fails is retried with backoff (a 4xx is final; a 429 waits
 * for its Retry-After, from 1 s to 5 min) and each failure is kept on the row and counted; with no
 * channel configured the rows are closed at once (the log has them).
 */
export async function deliverNotifications(db: Db, url: string | null, limit = 20) {
  // Long enough for every claimed post to time out in turn: no second replica takes one meanwhile.
  const due = await claimDueNotifications(db, limit, limit * NOTIFY_TIMEOUT_MS + 30_000);
  for (const [i, n] of due.entries()) {
    if (!url) {
      await markNotification(db, n.id, {
        delivered: false,
        error: 'no alert channel configured',
        retryInMs: null,
      });
      continue;
    }
    try {
      await postNotification(url, n.text as SlackText, { alert_id: n.alertId, transition: n.transition });
      await markNotification(db, n.id, { delivered: true });
      metrics.alertNotifications.inc({ result: 'delivered' });
    } catch (err) {
      const message = errorMessage(err);
      const limited = err instanceof RateLimitedError;
      const permanent = err instanceof PermanentError && !limited;
      metrics.alertNotifications.inc({ result: permanent ? 'refused' : 'failed' });
      log.warn(
        { notification: n.id, err: message, attempts: n.attempts + 1 },
        'alert channel delivery failed',
      );
      const retryInMs = limited
        ? Math.min(Math.max(err.retryAfterMs ?? RETRY_MS[0]!, 1000), 5 * 60_000)
        : RETRY_MS[Math.min(n.attempts, RETRY_MS.length - 1)]!;
      await markNotification(db, n.id, {
        delivered: false,
        error: message,
        retryInMs: permanent ? null : retryInMs,
      });
      // The channel is down or asks us to slow down: the rest waits as long, not its whole lease.
      if (!permanent) {
        await postponeNotifications(
          db,
          due.slice(i + 1).map((r) => r.id),
          retryInMs,
        );
        break;
      }
    }
  }
}

async function diskOf(dir: string | null) {
  if (!dir || dir.startsWith('memory:')) return null;
  try {
    const s = await statfs(dir);
    const total = s.blocks * s.bsize;
    const free = s.bavail * s.bsize;
    return total > 0 ? { usedPct: (1 - free / total) * 100, freeBytes: free } : null;
  } catch {
    return null;
  }
}
