import { ping } from '@/db/client';
import { getDb } from '@/lib/db';
import { env } from '@/lib/env';
import { runtime } from '@/lib/runtime';

export type Health = {
  status: 'ok' | 'degraded' | 'down';
  db: 'up' | 'down';
  worker: 'running' | 'paused' | 'stopped' | 'stopping' | 'external';
  sandbox: boolean;
};

/** Liveness of the parts a delivery passes through. The database being down is "down" (503). */
export async function health(): Promise<Health> {
  let db: Health['db'] = 'up';
  try {
    await Promise.race([
      getDb().then(ping),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
    ]);
  } catch {
    db = 'down';
  }
  const w = runtime().worker;
  const worker: Health['worker'] = w ? w.status : env.WORKER_INLINE ? 'stopped' : 'external';
  const status = db === 'down' ? 'down' : worker === 'paused' || worker === 'stopped' ? 'degraded' : 'ok';
  return { status, db, worker, sandbox: env.sandbox };
}
