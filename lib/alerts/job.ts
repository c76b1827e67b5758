import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db } from '@/db/client';
import { env } from '@/lib/env';
import { isProviderName, providerOf } from '@/lib/providers/registry';
import { runtime } from '@/lib/runtime';
import { listSources } from '@/lib/sources/service';
import { deliverNotifications, evaluateAlerts, refreshAlertGauges } from './engine';
import { watchEvaluation } from './evaluator-health';

/** This replica in the evaluator lease. */
const HOLDER = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

/** The sources the rules watch: enabled ones of a known provider. */
async function watchedSources() {
  return (await listSources(runtime().sources)).flatMap((s) =>
    s.enabled && isProviderName(s.provider) ? [{ slug: s.slug, provider: s.provider }] : [],
  );
}

/** The background jobs of the alerts (lib/jobs.ts runs them): evaluation, and the channel's outbox. */
export function alertJobs() {
  return [
    {
      name: 'alerts',
      everyMs: env.ALERT_EVAL_INTERVAL_MS,
      run: async (db: Db) => {
        await evaluateAlerts({
          db,
          holder: HOLDER,
          sources: watchedSources,
          management: async (provider) => {
            const api = runtime().managementApi(provider);
            const load = providerOf(provider).management;
            return api && load ? load(api, 'watchdog') : null;
          },
          appUrl: env.APP_PUBLIC_URL ?? null,
          retentionDays: env.RETENTION_DAYS,
          pgliteDir: env.DATABASE_URL ? null : env.PGLITE_DIR,
          resolveAfterMs: env.ALERT_RESOLVE_AFTER_MS,
          leaseMs: env.ALERT_EVAL_INTERVAL_MS * 3,
        });
        await refreshAlertGauges(db);
      },
    },
    {
      name: 'alert-channel',
      everyMs: 5000,
      run: async (db: Db) => {
        const url = env.ALERT_WEBHOOK_URL ?? env.NOTIFY_WEBHOOK_URL ?? null;
        await deliverNotifications(db, url);
        await watchEvaluation(db, url, env.ALERT_EVAL_INTERVAL_MS);
      },
    },
  ];
}
