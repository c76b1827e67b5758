import { type Actor, insertAudit } from '@/db/queries/audit';
import { pruneReconciliation, startRun } from '@/db/queries/reconciliation';
import { getDb } from '@/lib/db';
import { env } from '@/lib/env';
import { AppError } from '@/lib/errors';
import { log } from '@/lib/log';
import { PROVIDER_NAMES, providerOf } from '@/lib/providers/registry';
import { runtime } from '@/lib/runtime';
import { DEFAULT_RUNNER, executeRun, type LogSource, type RunResult, runReconciliation } from './run';

/** Every provider with a configured management API (or the demo sandbox's), ready to be read. */
async function logSources(): Promise<LogSource[]> {
  const out: LogSource[] = [];
  for (const name of PROVIDER_NAMES) {
    const provider = providerOf(name);
    const api = runtime().managementApi(name);
    if (!provider.management || !api) continue;
    out.push({
      provider: name,
      rules: provider.delivery,
      client: await provider.management(api, 'bulk'),
      appUrl: env.APP_PUBLIC_URL ?? null,
    });
  }
  return out;
}

/** The background job's run: quiet when another replica holds the lease. */
export async function reconcileInBackground(): Promise<RunResult> {
  const sources = await logSources();
  if (sources.length === 0) return { started: false };
  const db = await getDb();
  const result = await runReconciliation(db, sources, { trigger: 'job', actor: null });
  if (result.started) await pruneReconciliation(db, new Date(Date.now() - env.RETENTION_DAYS * 86_400_000));
  if (result.started && result.error) {
    log.warn({ runId: result.runId, error: result.error }, 'reconciliation run had errors');
  }
  return result;
}

/**
 * An operator's run: takes the lease, audits, and answers at once; the run itself (paced to the
 * provider's rate limit) continues in the background and reports on the page.
 */
export async function reconcileNow(who: Actor): Promise<{ run_id: number }> {
  const sources = await logSources();
  if (sources.length === 0) {
    throw new AppError(
      'unavailable',
      'No provider management API is configured: set its API key (README, Configuration), or unset it to use the built-in sandbox',
    );
  }
  const db = await getDb();
  const runId = await startRun(db, { trigger: 'manual', actor: who.actor, leaseMs: DEFAULT_RUNNER.leaseMs });
  if (runId === null)
    throw new AppError('conflict', 'A reconciliation is already running; its results appear when it ends');
  await insertAudit(db, who, 'reconciliation_run', String(runId), {
    providers: sources.map((s) => s.provider),
  });
  void executeRun(db, runId, sources).catch((err) => log.warn({ err, runId }, 'reconciliation run failed'));
  return { run_id: runId };
}
