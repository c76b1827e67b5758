import type { Db, Queryable } from '@/db/client';
import { claimStaleNotice, evaluationAgeS, releaseStaleNotice } from '@/db/queries/alerts';
import { log } from '@/lib/log';
import { postNotification, slackText } from '@/lib/notify';
import { metrics } from '@/lib/observability/metrics';

/** How often the stale-evaluation notice is repeated while the evaluation stays stale. */
const NOTICE_EVERY_MS = 15 * 60_000;

/** Three missed rounds, and never under 2 min: a slow round is not an outage. */
export function staleAfterS(intervalMs: number): number {
  return Math.max(3 * intervalMs, 120_000) / 1000;
}

/**
 * Whether the alert evaluation is running: the age of the last finished round on any replica.
 * Without one yet, the time this process has been up counts instead, so an evaluator that never
 * once finishes is stale too.
 */
export async function evaluationState(db: Queryable, intervalMs: number) {
  const ageS = await evaluationAgeS(db);
  return { ageS, stale: (ageS ?? process.uptime()) > staleAfterS(intervalMs) };
}

/**
 * Rules watch the deliveries; this watches the rules. Every replica's alert-channel job (its own
 * timer) asks whether a round has finished lately; when none has, the channel hears it directly
 * (the outbox is written by the evaluation that is not running), once per 15 min across replicas.
 */
export async function watchEvaluation(db: Db, url: string | null, intervalMs: number): Promise<void> {
  const { ageS, stale } = await evaluationState(db, intervalMs);
  metrics.alertsEvaluationAge.set(ageS ?? -1);
  if (!stale || !(await claimStaleNotice(db, NOTICE_EVERY_MS))) return;
  const minutes = Math.floor((ageS ?? process.uptime()) / 60);
  log.error({ age_s: ageS }, 'alerts: no evaluation round has finished lately; no alert can open or resolve');
  if (!url) return;
  const text = slackText`:rotating_light: [critical] Alert evaluation has not finished a round for ${minutes} min: no alert can open or resolve until it does. The app's log says why (job "alerts", "background job failed").`;
  try {
    await postNotification(url, text, { transition: 'evaluation_stale' });
  } catch (err) {
    await releaseStaleNotice(db);
    throw err;
  }
}
