import { randomUUID } from 'node:crypto';
import type { Db } from '@/db/client';
import { errorMessage } from '@/db/errors';
import { pruneOld, vacuumTables } from '@/db/queries/maintenance';
import { queueDepth } from '@/db/queries/queue';
import { writeRollups } from '@/db/queries/rollups';
import { indexReceiptBodies, sweepLateReceipts } from '@/db/queries/search';
import { alertJobs } from '@/lib/alerts/job';
import { ensureDays } from '@/lib/db';
import { env } from '@/lib/env';
import { log } from '@/lib/log';
import type { RollupBuffer, RollupCell } from '@/lib/metrics/rollup-buffer';
import { metrics } from '@/lib/observability/metrics';
import { learnPayloadShapes } from '@/lib/payload/learner';
import { longestRetryWindowMs } from '@/lib/providers/registry';
import { reconcileInBackground } from '@/lib/reconciliation/service';

type Job = { name: string; everyMs: number; run: (db: Db) => Promise<unknown> };

/**
 * Bodies the search indexer copies per statement. A body costs about 0.4 ms of Postgres time (its
 * trigrams into a GIN index), and every batch also re-reads the last 1,000 receipts (late commits).
 * PGlite runs one statement at a time for the receiver, the worker and the jobs alike, so there a
 * batch is smaller: a receipt write waits up to ~45 ms behind one, not the 35–130 ms of a batch of
 * 200. Not smaller still: batches of 10 cost 0.9 ms a body and fell behind at 320 deliveries/s, each
 * waiting its turn on the thread (bench/levers.md). Postgres gives the indexer a connection of its own.
 */
const SEARCH_BATCH = env.DATABASE_URL ? 200 : 50;

/**
 * Rows the retention job deletes per statement. On PGlite every receipt write waits behind each one:
 * 5,000 processed events with their attempts and effects took up to 121 ms a statement there, 500 at
 * most 12 ms, for 428 ms against 375 in all (20,000 events, a scratch timing), and a run still
 * deletes hundreds of thousands of rows within its 30 s.
 */
const PRUNE_BATCH = env.DATABASE_URL ? 5000 : 500;

/** The search index's sweep for late commits (db/queries/search.ts sweepLateReceipts). */
const LATE_SWEEP_EVERY_MS = 30_000;
const LATE_SWEEP_WINDOW_S = 90;

/**
 * Writes the receiver's rollup cells. A batch whose write failed is retried as it was, with its id:
 * if its COMMIT went through and only the answer was lost, the id makes the retry add nothing.
 * Statistics survive a database outage too.
 */
export function rollupsJob(rollups: RollupBuffer): Job {
  let unsure: { id: string; cells: RollupCell[] } | null = null;
  return {
    name: 'rollups',
    everyMs: 1000,
    run: async (db) => {
      if (unsure) {
        await writeRollups(db, unsure.cells, unsure.id);
        unsure = null;
      }
      const cells = rollups.take();
      if (cells.length === 0) return;
      unsure = { id: randomUUID(), cells };
      await writeRollups(db, cells, unsure.id);
      unsure = null;
    },
  };
}

function jobs(rollups: RollupBuffer): Job[] {
  let lastSweep = 0;
  return [
    rollupsJob(rollups),
    {
      name: 'gauges',
      everyMs: 5000,
      run: async (db) => {
        const q = await queueDepth(db);
        metrics.queueDepth.set(q.depth);
        metrics.dlqSize.set(q.dead);
      },
    },
    // Off the receive path and the worker's: learns payload shapes, records drift (lib/payload/drift.ts).
    { name: 'payload-shapes', everyMs: 2000, run: (db) => learnPayloadShapes(db) },
    {
      name: 'search-index',
      everyMs: 1000,
      run: async (db) => {
        // A backlog is worked off for up to 1 s per tick, then the receiver and the pages get a turn.
        const until = Date.now() + 1000;
        let n = SEARCH_BATCH;
        while (n === SEARCH_BATCH && Date.now() < until) {
          n = await indexReceiptBodies(db, SEARCH_BATCH);
          metrics.searchIndexed.inc(n);
        }
        // Every 30 s, the receipts of the last 90 s that committed behind the batches' margin.
        if (Date.now() - lastSweep >= LATE_SWEEP_EVERY_MS) {
          lastSweep = Date.now();
          let late = SEARCH_BATCH;
          while (late === SEARCH_BATCH && Date.now() < until + 1000) {
            late = await sweepLateReceipts(db, LATE_SWEEP_WINDOW_S, SEARCH_BATCH);
            metrics.searchIndexed.inc(late);
            if (late > 0) log.info({ late }, 'search index: receipts that committed late indexed');
          }
        }
      },
    },
    // Day tables are created three days ahead, so a day's receipts never wait for one.
    { name: 'partitions', everyMs: 60 * 60_000, run: ensureDays },
    {
      name: 'prune',
      everyMs: 10 * 60_000,
      run: async (db) => {
        const r = await pruneOld(db, env.RETENTION_DAYS, {
          batch: PRUNE_BATCH,
          fingerprintHours: env.DEDUPE_FINGERPRINT_HOURS,
          eventsMinHours: longestRetryWindowMs() / 3_600_000,
        });
        // An expired day whose tables stay attached keeps its disk until a run gets the lock.
        if (r.deferred.length > 0)
          log.warn(
            { deferred: r.deferred },
            'expired day tables not dropped yet: a lock was not had in time',
          );
      },
    },
    // The provider's log is read within its rate limit; one replica at a time (a lease row).
    { name: 'reconciliation', everyMs: 5 * 60_000, run: () => reconcileInBackground() },
    ...alertJobs(),
    // Postgres servers vacuum themselves (autovacuum); embedded PGlite does not.
    ...(env.DATABASE_URL ? [] : [pgliteVacuum()]),
  ];
}

/** Every minute a vacuum of the tables changed since, every tenth (and the first, of all) with fresh planner statistics. */
function pgliteVacuum(): Job {
  let runs = 0;
  return {
    name: 'vacuum',
    everyMs: 60_000,
    run: (db) => vacuumTables(db, { analyze: runs % 10 === 0, all: runs++ === 0 }),
  };
}

/**
 * Runs the periodic jobs (all of them, or only those named); returns a stop function. A failing job
 * logs and tries again next period.
 */
export function startBackgroundJobs(
  getDb: () => Promise<Db>,
  rollups: RollupBuffer,
  only?: string[],
  stopGraceMs = 5_000,
): () => Promise<void> {
  let stopped = false;
  // One pending timer per job (an array of every tick's timer grew by one a second, forever).
  const timers = new Map<string, NodeJS.Timeout>();
  const running = new Set<Promise<unknown>>();
  const list = jobs(rollups).filter((j) => !only || only.includes(j.name));
  for (const job of list) {
    const tick = async () => {
      if (stopped) return;
      const p = getDb().then(async (db) => {
        const end = metrics.jobSeconds.startTimer({ job: job.name });
        try {
          return await job.run(db);
        } finally {
          end();
        }
      });
      running.add(p);
      try {
        await p;
      } catch (err) {
        log.warn({ job: job.name, err: errorMessage(err) }, 'background job failed');
      } finally {
        running.delete(p);
        if (!stopped) timers.set(job.name, setTimeout(tick, job.everyMs).unref());
      }
    };
    timers.set(job.name, setTimeout(tick, Math.min(job.everyMs, 1000)).unref());
  }
  return async () => {
    stopped = true;
    for (const t of timers.values()) clearTimeout(t);
    const finish = (async () => {
      await Promise.allSettled([...running]);
      // Last write of the statistics gathered since the previous tick.
      const rollupsJob = list.find((j) => j.name === 'rollups');
      if (!rollupsJob) return;
      await getDb()
        .then((db) => rollupsJob.run(db))
        .catch((err) => log.warn({ err: errorMessage(err) }, 'final rollup write failed'));
    })();
    // A job may be waiting out a provider's rate limit or a lock: the stop does not wait for it past
    // the grace (a supervisor's kill would come first, and with it the rest of the shutdown).
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => {
      timer = setTimeout(() => r('late'), stopGraceMs);
    });
    if ((await Promise.race([finish, late])) === 'late') {
      log.warn(
        { grace_ms: stopGraceMs, running: running.size },
        'background jobs still running at stop: left',
      );
    }
    clearTimeout(timer);
  };
}
