import type { Db } from '@/db/client';
import { queueDepth } from '@/db/queries/queue';
import { pruneOld, rollUpReceipts } from '@/db/queries/rollups';
import { env } from '@/lib/env';
import { log } from '@/lib/log';
import { metrics } from '@/lib/observability/metrics';

type Job = { name: string; everyMs: number; run: (db: Db) => Promise<unknown> };

const JOBS: Job[] = [
  {
    name: 'rollup',
    everyMs: 2000,
    run: async (db) => {
      // Catch up in several passes after downtime, but yield between them.
      for (let i = 0; i < 10 && (await rollUpReceipts(db)) > 0; i++);
    },
  },
  {
    name: 'gauges',
    everyMs: 5000,
    run: async (db) => {
      const q = await queueDepth(db);
      metrics.queueDepth.set(q.depth);
      metrics.dlqSize.set(q.dead);
    },
  },
  { name: 'prune', everyMs: 10 * 60_000, run: (db) => pruneOld(db, env.RETENTION_DAYS) },
];

/** Runs the periodic jobs; returns a stop function. A failing job logs and tries again next period. */
export function startBackgroundJobs(getDb: () => Promise<Db>): () => Promise<void> {
  let stopped = false;
  const timers: NodeJS.Timeout[] = [];
  const running = new Set<Promise<unknown>>();
  for (const job of JOBS) {
    const tick = async () => {
      if (stopped) return;
      const p = getDb().then(job.run);
      running.add(p);
      try {
        await p;
      } catch (err) {
        log.warn({ job: job.name, err: (err as Error).message }, 'background job failed');
      } finally {
        running.delete(p);
        if (!stopped) timers.push(setTimeout(tick, job.everyMs).unref());
      }
    };
    timers.push(setTimeout(tick, Math.min(job.everyMs, 1000)).unref());
  }
  return async () => {
    stopped = true;
    for (const t of timers) clearTimeout(t);
    await Promise.allSettled([...running]);
  };
}
