import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Sandbox } from '@/lib/providers/skylight/sandbox/server';
import type { Webhook } from '@/lib/providers/skylight/sandbox/store';
import { type AppProcess, delay, ensureAppBuilt, startApp, until } from '../helpers/app-process';
import { createScratchDb, type ScratchDb } from '../helpers/scratch-pg';
import {
  API_TOKEN,
  deliveryLog,
  FULL,
  ledger,
  ledgerProblems,
  providerEnv,
  queueDrained,
  report,
  sandboxIdle,
  skipReason,
  startProvider,
  takeTurn,
} from './harness';

// A steady stream for 10 minutes (FAULTS_SOAK_MS) while a client polls the dashboard's JSON API:
// no errors anywhere, memory flat after warm-up, and the queue empty at the end. Full run only.

const APP_PORT = 4550;
const SANDBOX_PORT = 4551;
const SOAK_MS = Number(process.env.FAULTS_SOAK_MS || 600_000);
const RATE = 100;
/** Memory is compared after this share of the run, once caches, JIT and pools have settled. */
const WARM_UP = 0.2;
const MAX_GROWTH = 0.1;
const POLLED = [
  '/api/metrics/summary',
  '/api/deliveries?limit=50',
  '/api/events?limit=50',
  '/api/dlq?limit=50',
  '/api/dlq/count',
  '/api/metrics/ack-latency',
  '/api/metrics/delivery-lag',
  '/api/metrics/retry-rate',
  '/api/metrics/outcomes',
  '/api/audit?limit=20',
  '/api/provider/webhooks',
];

let skip = await skipReason({ postgres: true });
if (!skip && !FULL) skip = 'soak runs in the full fault suite only (FAULTS_FULL=1)';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

describe('soak: steady load with dashboard polling', { skip }, () => {
  let db: ScratchDb;
  let sandbox: Sandbox;
  let webhook: Webhook;
  let app: AppProcess | null = null;
  let release = () => {};

  before(
    async () => {
      release = await takeTurn('soak');
      await ensureAppBuilt();
      db = await createScratchDb();
      ({ sandbox, webhook } = await startProvider({
        port: SANDBOX_PORT,
        appPort: APP_PORT,
        knobs: { duplicates: 0.05, failures: 0.02, timeScale: 60, idMode: 'stable' },
      }));
      app = await startApp({
        port: APP_PORT,
        env: providerEnv({ sandbox, webhook }, db.url),
      });
    },
    { timeout: 45 * 60_000 },
  );

  after(async () => {
    await app?.kill();
    await sandbox?.stop();
    await db?.drop();
    release();
  });

  test(`${SOAK_MS / 1000} s at ${RATE}/s: no errors, RSS flat, queue drained`, {
    timeout: SOAK_MS + 10 * 60_000,
  }, async () => {
    const t0 = performance.now();
    const rss: Array<{ t: number; kb: number }> = [];
    const errors: string[] = [];
    let polls = 0;
    let running = true;

    const poller = (async () => {
      while (running) {
        for (const p of POLLED) {
          if (!running) break;
          try {
            const res = await fetch(`${app!.url}${p}`, {
              headers: { authorization: `Bearer ${API_TOKEN}` },
              signal: AbortSignal.timeout(10_000),
            });
            await res.arrayBuffer();
            polls++;
            if (res.status !== 200) errors.push(`${p}: ${res.status}`);
          } catch (err) {
            errors.push(`${p}: ${(err as Error).message}`);
          }
          await delay(100);
        }
      }
    })();
    const sampler = (async () => {
      while (running) {
        const kb = app!.rssKb();
        if (kb !== null) rss.push({ t: performance.now() - t0, kb });
        await delay(5000);
      }
    })();

    sandbox.core.setKnobs({ rate: RATE });
    sandbox.core.sender.start();
    await delay(SOAK_MS);
    sandbox.core.setKnobs({ rate: 0 });
    running = false;
    await Promise.all([poller, sampler]);

    await until('sandbox retries finished', () => sandboxIdle(sandbox), 300_000, 1000);
    await until('queue drained', () => queueDrained(db.sql), 120_000, 500);
    const stats = sandbox.core.sender.stats();
    const l = await ledger(db.sql, await deliveryLog(sandbox, webhook.id));

    // Baseline: the samples just after warm-up; final: the last tenth of the run.
    const afterWarmUp = rss.filter((s) => s.t >= SOAK_MS * WARM_UP && s.t < SOAK_MS * (WARM_UP + 0.1));
    const last = rss.filter((s) => s.t >= SOAK_MS * 0.9);
    const baseline = median(afterWarmUp.map((s) => s.kb));
    const final = median(last.map((s) => s.kb));
    const figures = {
      seconds: SOAK_MS / 1000,
      rate: RATE,
      events: stats.events,
      posts: stats.sent,
      failed_posts: stats.failedAttempts,
      polls,
      poll_errors: errors.length,
      rss_start_mb: Math.round((rss[0]?.kb ?? 0) / 1024),
      rss_baseline_mb: Math.round(baseline / 1024),
      rss_final_mb: Math.round(final / 1024),
      rss_max_mb: Math.round(Math.max(...rss.map((s) => s.kb)) / 1024),
      rss_growth_pct: Math.round(((final - baseline) / baseline) * 1000) / 10,
      processed: l.processed,
      dead: l.dead,
      double_processed: l.duplicateEffects + l.multiSuccess + l.doubleApplyErrors,
    };
    report('soak', figures);

    assert.deepEqual(errors.slice(0, 10), [], 'every dashboard poll answered 200');
    assert.equal(stats.failedAttempts, 0, 'every delivery acknowledged on its first try');
    assert.ok(afterWarmUp.length > 0 && last.length > 0, 'enough RSS samples');
    assert.ok(final <= baseline * (1 + MAX_GROWTH), `RSS grew ${figures.rss_growth_pct} % after warm-up`);
    assert.deepEqual(ledgerProblems(l), {}, `ledger invariants (${JSON.stringify(figures)})`);
  });
});
