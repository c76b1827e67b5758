import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import type postgres from 'postgres';
import type { Sandbox } from '@/lib/providers/skylight/sandbox/server';
import type { Webhook } from '@/lib/providers/skylight/sandbox/store';
import { type AppProcess, delay, ensureAppBuilt, startApp, until } from '../helpers/app-process';
import { createScratchDb } from '../helpers/scratch-pg';
import {
  API_TOKEN,
  deliveryLog,
  emitPaced,
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

// The app SIGKILLed (whole process group) at random moments under load, then restarted: nothing
// acknowledged is lost, nothing is applied twice, and what was not acknowledged lands on a retry.
// On Postgres and on the embedded PGlite (its folder reopened after each kill, WAL replayed).

/** 2/10/30 min become 3/15/45 s: the first retry comes after a restart (~1–2 s). */
const TIME_SCALE = 40;

const BACKENDS = {
  /** Full run 20,000 at ~70 % of the ~500/s this machine's receiver sustains. */
  postgres: {
    appPort: 4510,
    sandboxPort: 4511,
    n: FULL ? 20_000 : 2_000,
    rate: FULL ? 350 : 150,
    kills: FULL ? 5 : 2,
  },
  /** PGlite is one process and one connection: a third of its ~300/s, fewer kills in the short run. */
  pglite: {
    appPort: 4512,
    sandboxPort: 4513,
    n: FULL ? 6_000 : 600,
    rate: FULL ? 100 : 50,
    kills: FULL ? 4 : 1,
  },
} as const;

const skip = await skipReason({ postgres: true });

for (const backend of ['postgres', 'pglite'] as const) {
  const { appPort: APP_PORT, sandboxPort: SANDBOX_PORT, n: N, rate: RATE, kills: KILLS } = BACKENDS[backend];

  describe(`crash: SIGKILL under load (${backend})`, { skip: backend === 'postgres' ? skip : false }, () => {
    /** Postgres: a scratch database; PGlite: a folder, read after the app has stopped for good. */
    let db: { env: Record<string, string>; sql: postgres.Sql; drop(): Promise<void> };
    let sandbox: Sandbox;
    let webhook: Webhook;
    let app: AppProcess | null = null;
    let release = () => {};

    const start = () =>
      startApp({
        port: APP_PORT,
        env: { ...providerEnv({ sandbox, webhook }), ...db.env },
      });

    before(
      async () => {
        release = await takeTurn(`crash-${backend}`);
        await ensureAppBuilt();
        db = backend === 'postgres' ? postgresDb(await createScratchDb()) : pgliteFolder();
        ({ sandbox, webhook } = await startProvider({
          port: SANDBOX_PORT,
          appPort: APP_PORT,
          knobs: { duplicates: 0.1, failures: 0.05, timeScale: TIME_SCALE, idMode: 'stable', shape: 'A' },
        }));
        app = await start();
      },
      { timeout: 45 * 60_000 },
    );

    after(async () => {
      await app?.kill();
      await sandbox?.stop();
      await db?.drop();
      release();
    });

    test(`${N} deliveries, ${KILLS} SIGKILLs: acked ⇒ stored, each event applied exactly once`, {
      timeout: FULL ? 20 * 60_000 : 4 * 60_000,
    }, async () => {
      const sendSeconds = N / RATE;
      // Kill moments spread over the send phase, at least 3 s apart so each restart finishes first.
      const slots = Array.from({ length: KILLS }, (_, i) => (i + 0.2 + Math.random() * 0.6) / KILLS);
      const killAt = slots.map((f) => f * sendSeconds * 1000);
      const restarts: number[] = [];
      const t0 = performance.now();

      const chaos = (async () => {
        for (const at of killAt) {
          await delay(Math.max(0, t0 + at - performance.now()));
          await app!.kill();
          const down = performance.now();
          await delay(200 + Math.random() * 800);
          app = await start();
          restarts.push(Math.round(performance.now() - down));
        }
      })();
      const sent = emitPaced(sandbox, N, RATE, sendSeconds * 1000 + 120_000);
      const [sendS] = await Promise.all([sent, chaos]);
      const afterSend = sandbox.core.sender.stats();

      // The provider's retries (3 s, 15 s, 45 s after a failure), then leases of killed workers
      // (30 s) expire and the queue drains.
      await until('sandbox retries finished', () => sandboxIdle(sandbox), FULL ? 300_000 : 120_000, 500);
      await until(
        'queue drained',
        () => (backend === 'postgres' ? queueDrained(db.sql) : queueDrainedOverApi(app!.url)),
        FULL ? 300_000 : 120_000,
        500,
      );
      if (backend === 'pglite') {
        // PGlite is the app's own folder: read it once the app has let go of it.
        await app!.stop();
        app = null;
      }
      const l = await ledger(db.sql, await deliveryLog(sandbox, webhook.id));
      const figures = {
        deliveries_sent: N,
        send_seconds: Math.round(sendS),
        ack_rate_per_s: Math.round(afterSend.delivered / sendS),
        kills: restarts.length,
        restart_ms: restarts,
        posts: l.posts,
        acked: l.acked,
        unacked_posts: l.unacked,
        ids_retried: l.retriedIds,
        unique: l.unique,
        events: l.events,
        processed: l.processed,
        dead: l.dead,
        effects: l.effects,
        lost: l.neverAcked.length + l.ackedWithoutReceipt.length + l.ackedWithoutEvent.length,
        double_processed: l.duplicateEffects + l.multiSuccess + l.doubleApplyErrors,
        lease_lost: l.leaseLost,
        claims_interrupted: l.interruptedClaims,
        drain_seconds: Math.round((performance.now() - t0) / 1000 - sendS),
      };
      report(`crash-${backend}`, figures);

      assert.equal(restarts.length, KILLS, 'every kill was followed by a restart');
      assert.deepEqual(ledgerProblems(l), {}, `ledger invariants (${JSON.stringify(figures)})`);
      assert.ok(l.unique >= N, `every emitted event became a delivery (${l.unique})`);
      assert.ok(l.unacked > 0, 'the kills hit deliveries in flight (otherwise this test proved nothing)');
      assert.ok(l.dead > 0 && l.dead < l.events * 0.1, `dead letters are the injected failures (${l.dead})`);
    });
  });
}

function postgresDb(d: Awaited<ReturnType<typeof createScratchDb>>) {
  return { env: { DATABASE_URL: d.url }, sql: d.sql, drop: d.drop };
}

/** A PGlite folder for the app, and a reader of it shaped like postgres.js's tagged template. */
function pgliteFolder() {
  const dir = mkdtempSync(path.join(tmpdir(), 'crash-pglite-'));
  let pg: PGlite | null = null;
  const sql = (async (strings: TemplateStringsArray, ...values: unknown[]) => {
    pg ??= await PGlite.create(dir);
    const text = strings.reduce((acc, part, i) => `${acc}$${i}${part}`);
    return (await pg.query(text, values)).rows;
  }) as unknown as postgres.Sql;
  return {
    env: { PGLITE_DIR: dir },
    sql,
    drop: async () => {
      await pg?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Queue depth through the app's own API: the PGlite folder belongs to the running app. */
async function queueDrainedOverApi(baseUrl: string): Promise<boolean> {
  const res = await fetch(`${baseUrl}/api/metrics/summary`, {
    headers: { authorization: `Bearer ${API_TOKEN}` },
    signal: AbortSignal.timeout(5000),
  }).catch(() => null);
  if (!res?.ok) return false;
  const { data } = (await res.json()) as { data: { queue_depth: number } };
  return data.queue_depth === 0;
}
