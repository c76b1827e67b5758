import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  HEADER_DELIVERY,
  HEADER_EVENT,
  HEADER_SIGNATURE,
  HEADER_TIMESTAMP,
} from '@/lib/providers/skylight/protocol';
import { buildEnvelope } from '@/lib/providers/skylight/sandbox/sender';
import { type Sandbox, startSandbox } from '@/lib/providers/skylight/sandbox/server';
import type { Webhook } from '@/lib/providers/skylight/sandbox/store';
import { World } from '@/lib/providers/skylight/sandbox/world';
import { sign } from '@/lib/providers/skylight/signature';
import { type AppProcess, ensureAppBuilt, startApp, until } from '../helpers/app-process';
import { createScratchDb, type ScratchDb } from '../helpers/scratch-pg';
import {
  appEnv,
  deliveryLog,
  emitPaced,
  FULL,
  ledger,
  ledgerProblems,
  queueDrained,
  report,
  sandboxIdle,
  skipReason,
  takeTurn,
} from './harness';

// Two app processes on one Postgres. Every delivery of ours goes to both at the same moment (same
// signed bytes), as a provider retry racing its original through a load balancer would; ordinary
// sandbox traffic runs alongside. Each delivery becomes one event, applied once, claimed once.

const PORTS = [4530, 4531] as const;
const SANDBOX_PORT = 4532;
const PAIRS = FULL ? 4000 : 600;
const IN_FLIGHT = 16;
const BACKGROUND = FULL ? 2000 : 300;

const skip = await skipReason({ postgres: true });

type PairResult = { id: string; statuses: number[]; fresh: number };

describe('two replicas on one database', { skip }, () => {
  let db: ScratchDb;
  let sandbox: Sandbox;
  const hooks: Webhook[] = [];
  const apps: AppProcess[] = [];
  let release = () => {};

  before(
    async () => {
      release = await takeTurn('replicas');
      await ensureAppBuilt();
      db = await createScratchDb();
      sandbox = await startSandbox({
        port: SANDBOX_PORT,
        knobs: { duplicates: 0.1, failures: 0.05, timeScale: 60, idMode: 'stable' },
        deliveryTimeoutMs: 10_000,
      });
      // One signing secret for both; contact and booking events go to replica A, messages to B.
      const a = await sandbox.core.createWebhook({
        name: 'replica-a',
        url: `http://127.0.0.1:${PORTS[0]}/api/webhooks/skylightchat`,
        events: ['contact.created', 'contact.updated', 'contact.deleted', 'booking.created'],
      });
      const b = await sandbox.core.createWebhook({
        name: 'replica-b',
        url: `http://127.0.0.1:${PORTS[1]}/api/webhooks/skylightchat`,
        events: ['message.received', 'message.sent'],
        secret: a.secret,
      });
      hooks.push(a, b);
      // Both at once: migrations race too (they serialise on an advisory lock).
      apps.push(
        ...(await Promise.all(
          PORTS.map((port) =>
            startApp({
              port,
              env: appEnv({
                databaseUrl: db.url,
                apiUrl: sandbox.apiUrl,
                apiKey: sandbox.apiKey,
                secret: a.secret,
                notifyUrl: sandbox.downstreamUrl,
              }),
            }),
          ),
        )),
      );
    },
    { timeout: 45 * 60_000 },
  );

  after(async () => {
    await Promise.all(apps.map((a) => a.kill()));
    await sandbox?.stop();
    await db?.drop();
    release();
  });

  test(`${PAIRS} deliveries sent to both replicas at once: one event, one effect, one claim each`, {
    timeout: FULL ? 10 * 60_000 : 3 * 60_000,
  }, async () => {
    const secret = hooks[0]!.secret;
    const world = new World();
    const t0 = performance.now();
    const background = emitPaced(sandbox, BACKGROUND, BACKGROUND / (FULL ? 30 : 10), 120_000);

    const results: PairResult[] = [];
    let next = 0;
    const racer = async () => {
      while (next < PAIRS) {
        next++;
        const ev = world.next(new Date());
        const id = randomUUID();
        const body = buildEnvelope(ev, 'A', id);
        const headers = {
          'content-type': 'application/json',
          [HEADER_EVENT]: ev.type,
          [HEADER_DELIVERY]: id,
          [HEADER_TIMESTAMP]: String(Math.floor(Date.now() / 1000)),
          [HEADER_SIGNATURE]: sign(body, secret),
        };
        const answers = await Promise.all(
          apps.map(async (app) => {
            const res = await fetch(app.receiverUrl, {
              method: 'POST',
              headers,
              body,
              signal: AbortSignal.timeout(10_000),
            });
            const json = (await res.json().catch(() => null)) as { duplicate?: boolean } | null;
            return { status: res.status, fresh: json?.duplicate === false };
          }),
        );
        results.push({
          id,
          statuses: answers.map((a) => a.status),
          fresh: answers.filter((a) => a.fresh).length,
        });
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, racer));
    const raceSeconds = (performance.now() - t0) / 1000;
    await background;

    await until('sandbox retries finished', () => sandboxIdle(sandbox), 120_000, 500);
    await until('queue drained', () => queueDrained(db.sql), 120_000, 500);

    const log = (await Promise.all(hooks.map((h) => deliveryLog(sandbox, h.id)))).flat();
    const l = await ledger(db.sql, log);
    const ids = results.map((r) => r.id);
    const perId = await db.sql<{ delivery_id: string; events: number; effects: number; successes: number }[]>`
        select e.delivery_id, count(distinct e.id)::int as events,
               (select count(*)::int from effects f where f.event_id = min(e.id)) as effects,
               -- skipped_stale completes an event too (processed, no effect): an update older than
               -- the stored state, which two replicas' workers racing on one contact do produce.
               (select count(*)::int from attempts a where a.event_id = min(e.id)
                  and a.result in ('success', 'skipped_stale')) as successes
          from events e where e.delivery_id in ${db.sql(ids)} group by e.delivery_id`;
    const workers = await db.sql<{ worker: string; n: number }[]>`
        select worker, count(*)::int as n from attempts group by worker order by worker`;
    const [receipts] = await db.sql<{ accepted: number; duplicate: number }[]>`
        select count(*) filter (where outcome = 'accepted')::int as accepted,
               count(*) filter (where outcome = 'duplicate')::int as duplicate
          from receipts where delivery_id in ${db.sql(ids)}`;
    const byId = new Map(perId.map((r) => [r.delivery_id, r]));
    const notBoth200 = results.filter((r) => r.statuses.some((s) => s !== 200));
    const notOneFresh = results.filter((r) => r.fresh !== 1);
    const wrong = ids.filter((id) => {
      const r = byId.get(id);
      return r?.events !== 1 || r.effects !== 1 || r.successes !== 1;
    });
    const figures = {
      pairs: PAIRS,
      race_seconds: Math.round(raceSeconds),
      posts: PAIRS * 2,
      both_200: PAIRS - notBoth200.length,
      exactly_one_new: PAIRS - notOneFresh.length,
      accepted_receipts: receipts!.accepted,
      duplicate_receipts: receipts!.duplicate,
      background_posts: l.posts,
      events: l.events,
      processed: l.processed,
      dead: l.dead,
      effects: l.effects,
      double_processed: l.duplicateEffects + l.multiSuccess + l.doubleApplyErrors,
      lease_lost: l.leaseLost,
      attempts_by_worker: workers.map((w) => w.n),
    };
    report('replicas', figures);

    assert.deepEqual(notBoth200.slice(0, 5), [], 'both replicas acknowledged every copy');
    assert.deepEqual(notOneFresh.slice(0, 5), [], 'exactly one replica took each delivery as new');
    assert.equal(receipts!.accepted, PAIRS);
    assert.equal(receipts!.duplicate, PAIRS);
    assert.deepEqual(wrong.slice(0, 5), [], 'one event, one effect, one successful attempt per delivery');
    assert.deepEqual(ledgerProblems(l), {}, `ledger invariants (${JSON.stringify(figures)})`);
    assert.equal(l.leaseLost, 0, 'no lease lost: no two workers held the same event');
    assert.equal(workers.length, 2, 'both replicas claimed work from the shared queue');
  });
});
