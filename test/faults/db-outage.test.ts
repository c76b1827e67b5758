import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import postgres from 'postgres';
import type { Sandbox } from '@/lib/providers/skylight/sandbox/server';
import type { Webhook } from '@/lib/providers/skylight/sandbox/store';
import { type AppProcess, delay, ensureAppBuilt, startApp, until } from '../helpers/app-process';
import { signedDelivery } from '../helpers/deliveries';
import { type Cluster, createCluster, pgBinariesAvailable } from '../helpers/scratch-pg';
import {
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

// The database stopped (`pg_ctl stop -m immediate`) under load and started again: the receiver
// answers 503 at once instead of hanging or failing with 500, health says so, the worker pauses and
// resumes on its own, nothing acknowledged is lost, and the provider's retries land afterwards.

const APP_PORT = 4520;
const SANDBOX_PORT = 4521;
const PG_PORT = 4598;
const OUTAGE_S = FULL ? 20 : 5;
/** The first provider retry (2 min / scale) comes 4 s after the outage would have ended. */
const TIME_SCALE = 120 / (OUTAGE_S + 4);
const RATE = FULL ? 60 : 40;
/** A 503 must come quickly: the provider would otherwise time out and the sockets pile up. */
const MAX_ANSWER_MS = 5000;

type Probe = { t: number; ms: number; status: number | 'error'; retryAfter: string | null; id: string };
type HealthSample = { t: number; ms: number; status: number | 'error'; db?: string; worker?: string };

let skip = await skipReason();
if (!skip && !pgBinariesAvailable()) {
  if (FULL) throw new Error('db-outage needs the Postgres server binaries (FAULTS_PG_BIN)');
  skip = 'no Postgres binaries in /usr/lib/postgresql/15/bin (set FAULTS_PG_BIN)';
}

describe('database outage under load', { skip }, () => {
  let cluster: Cluster;
  let sql: postgres.Sql;
  let sandbox: Sandbox;
  let webhook: Webhook;
  let app: AppProcess | null = null;
  let release = () => {};

  before(
    async () => {
      release = await takeTurn('db-outage');
      await ensureAppBuilt();
      cluster = createCluster(PG_PORT);
      cluster.start();
      sql = postgres(cluster.url, { max: 2, onnotice: () => {} });
      ({ sandbox, webhook } = await startProvider({
        port: SANDBOX_PORT,
        appPort: APP_PORT,
        knobs: { duplicates: 0.05, failures: 0, timeScale: TIME_SCALE, idMode: 'stable', burst: 1 },
      }));
      app = await startApp({
        port: APP_PORT,
        env: providerEnv({ sandbox, webhook }, cluster.url),
      });
    },
    { timeout: 45 * 60_000 },
  );

  after(async () => {
    await app?.kill();
    await sandbox?.stop();
    await sql?.end({ timeout: 1 }).catch(() => {});
    cluster?.destroy();
    release();
  });

  test(`${OUTAGE_S} s outage: 503 fast, health down then ok, no loss, retries land`, {
    timeout: FULL ? 10 * 60_000 : 3 * 60_000,
  }, async () => {
    const t0 = performance.now();
    const now = () => performance.now() - t0;
    const probes: Probe[] = [];
    const health: HealthSample[] = [];
    let running = true;

    // Our own signed deliveries every 100 ms: status, latency and Retry-After of each answer.
    const prober = (async () => {
      while (running) {
        const d = signedDelivery(webhook.secret);
        const t = now();
        const started = performance.now();
        try {
          const res = await fetch(app!.receiverUrl, {
            method: 'POST',
            headers: d.headers,
            body: d.body,
            signal: AbortSignal.timeout(15_000),
          });
          await res.arrayBuffer();
          probes.push({
            t,
            ms: performance.now() - started,
            status: res.status,
            retryAfter: res.headers.get('retry-after'),
            id: d.deliveryId,
          });
        } catch {
          probes.push({
            t,
            ms: performance.now() - started,
            status: 'error',
            retryAfter: null,
            id: d.deliveryId,
          });
        }
        await delay(100);
      }
    })();
    const healthPoller = (async () => {
      while (running) {
        const t = now();
        const started = performance.now();
        try {
          const res = await fetch(`${app!.url}/api/health`, { signal: AbortSignal.timeout(15_000) });
          const body = (await res.json()) as { db?: string; worker?: string };
          health.push({
            t,
            ms: performance.now() - started,
            status: res.status,
            db: body.db,
            worker: body.worker,
          });
        } catch {
          health.push({ t, ms: performance.now() - started, status: 'error' });
        }
        await delay(250);
      }
    })();

    sandbox.core.setKnobs({ rate: RATE });
    sandbox.core.sender.start();
    await delay(3000);

    const pid = app!.pid;
    cluster.stopImmediate();
    const down = now();
    await delay(OUTAGE_S * 1000);
    // pg_ctl start returns once the server accepts connections: from here on 200s are fine.
    const restarting = now();
    cluster.start();
    const up = now();
    await delay(5000);
    sandbox.core.setKnobs({ rate: 0 });
    running = false;
    await Promise.all([prober, healthPoller]);

    await until('sandbox retries finished', () => sandboxIdle(sandbox), FULL ? 240_000 : 90_000, 500);
    await until('queue drained', () => queueDrained(sql), 60_000, 500);

    const log = await deliveryLog(sandbox, webhook.id);
    const l = await ledger(sql, log);
    const acked = probes.filter((p) => p.status === 200).map((p) => p.id);
    const stored = new Set(
      (
        await sql<{ delivery_id: string }[]>`
          select r.delivery_id from receipts r join events e on e.delivery_id = r.delivery_id
           where r.http_status = 200 and r.delivery_id in ${sql(acked)}`
      ).map((r) => r.delivery_id),
    );
    const [unavailable] = await sql<{ n: number }[]>`
      select count(*)::int as n from receipts where outcome = 'unavailable'`;
    // Sent after the stop and answered before the restart began (a write queued across it may commit).
    const during = (s: { t: number; ms: number }) => s.t > down + 1000 && s.t + s.ms < restarting;
    const probe503 = probes.filter((p) => p.status === 503);
    const sandbox503 = log.filter((r) => r.responseStatusCode === 503).length;
    const healthAfter = health.filter((h) => h.t > up);
    const recoveredAt = healthAfter.find((h) => h.status === 200 && h.worker === 'running');
    const figures = {
      outage_seconds: OUTAGE_S,
      probes: probes.length,
      probes_acked: acked.length,
      answered_503: probe503.length + sandbox503,
      probe_503: probe503.length,
      sandbox_503: sandbox503,
      unavailable_receipts: unavailable!.n,
      max_503_ms: Math.round(Math.max(0, ...probe503.map((p) => p.ms))),
      max_answer_ms: Math.round(Math.max(...probes.map((p) => p.ms))),
      other_statuses: probes.filter((p) => p.status !== 200 && p.status !== 503).map((p) => p.status),
      health_down_samples: health.filter((h) => h.status === 503 && h.db === 'down').length,
      max_health_ms: Math.round(Math.max(...health.map((h) => h.ms))),
      worker_states_during: [...new Set(health.filter(during).map((h) => h.worker))],
      recovered_after_ms: recoveredAt ? Math.round(recoveredAt.t - up) : null,
      sandbox_posts: l.posts,
      sandbox_unique: l.unique,
      sandbox_ids_retried: l.retriedIds,
      lost: acked.length - stored.size + l.neverAcked.length + l.ackedWithoutReceipt.length,
      double_processed: l.duplicateEffects + l.multiSuccess + l.doubleApplyErrors,
    };
    report('db-outage', figures);
    if (process.env.FAULTS_DEBUG) {
      console.log(JSON.stringify({ down, up, probes, health }));
      const reasons: Record<string, number> = {};
      for (const r of log)
        if (r.responseStatusCode !== 200)
          reasons[`${r.responseStatusCode} ${r.responseBody?.slice(0, 60)}`] =
            (reasons[`${r.responseStatusCode} ${r.responseBody?.slice(0, 60)}`] ?? 0) + 1;
      console.log(JSON.stringify(reasons));
      console.log(app!.logs().slice(-4000));
    }

    assert.equal(app!.exited(), false, 'the app kept running');
    assert.equal(app!.pid, pid, 'no restart');
    assert.deepEqual(figures.other_statuses, [], 'only 200 or 503, never 500, never a hang');
    assert.ok(figures.max_answer_ms < MAX_ANSWER_MS, `every answer within ${MAX_ANSWER_MS} ms`);
    assert.ok(probe503.length > 0, 'the receiver refused deliveries while the database was down');
    assert.ok(
      probe503.every((p) => p.retryAfter !== null),
      '503 answers carry Retry-After',
    );
    assert.ok(
      probes.filter(during).every((p) => p.status === 503),
      'nothing acknowledged while the database was down',
    );
    assert.ok(figures.health_down_samples > 0, '/api/health said 503 db down during the outage');
    assert.ok(figures.max_health_ms < MAX_ANSWER_MS, '/api/health answered quickly throughout');
    assert.ok(figures.worker_states_during.includes('paused'), 'the worker paused');
    assert.ok(recoveredAt, 'health back to 200 with the worker running, without a restart');
    assert.equal(health.at(-1)?.status, 200, 'health ok at the end');
    assert.deepEqual(
      acked.filter((id) => !stored.has(id)),
      [],
      'every 200 has its receipt and event',
    );
    assert.deepEqual(ledgerProblems(l), {}, `ledger invariants (${JSON.stringify(figures)})`);
    assert.ok(l.retriedIds > 0, "the provider's refused deliveries were retried and landed");
    assert.ok(
      probes.filter((p) => p.t > up + 3000).every((p) => p.status === 200),
      'accepting again',
    );
  });
});
