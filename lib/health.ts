import { ping } from '@/db/client';
import { evaluationState } from '@/lib/alerts/evaluator-health';
import { getDb } from '@/lib/db';
import { env } from '@/lib/env';
import { runtime } from '@/lib/runtime';

export type Health = {
  status: 'ok' | 'degraded' | 'down';
  db: 'up' | 'down';
  worker: 'running' | 'paused' | 'stopped' | 'stopping' | 'external';
  /** 'stale': no replica has finished an alert evaluation round lately, so no alert can open. */
  alerts: 'ok' | 'stale' | 'unknown';
  sandbox: boolean;
};

/** Liveness of the parts a delivery passes through. The database being down is "down" (503). */
export async function health(): Promise<Health> {
  let db: Health['db'] = 'up';
  let alerts: Health['alerts'] = 'unknown';
  const within2s = <T>(p: Promise<T>) =>
    Promise.race([
      p,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
    ]);
  try {
    await within2s(getDb().then(ping));
    // Its own question: a failure here says nothing about storing deliveries.
    alerts = await within2s(getDb().then((d) => evaluationState(d, env.ALERT_EVAL_INTERVAL_MS)))
      .then((e) => (e.stale ? ('stale' as const) : ('ok' as const)))
      .catch(() => 'unknown' as const);
  } catch {
    // Down, or up but not answering within 2 s: either way no delivery can be stored now.
    db = 'down';
  }
  const w = runtime().worker;
  const worker: Health['worker'] = w ? w.status : env.WORKER_INLINE ? 'stopped' : 'external';
  const degraded = worker === 'paused' || worker === 'stopped' || alerts === 'stale';
  const status = db === 'down' ? 'down' : degraded ? 'degraded' : 'ok';
  return { status, db, worker, alerts, sandbox: env.sandbox };
}
