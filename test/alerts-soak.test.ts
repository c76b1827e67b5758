import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '@/db/client';
import { writeRollups } from '@/db/queries/rollups';
import { evaluateAlerts } from '@/lib/alerts/engine';
import { skylight } from '@/lib/providers/skylight';
import { type Sandbox, startSandbox } from '@/lib/providers/skylight/sandbox/server';
import type { Webhook } from '@/lib/providers/skylight/sandbox/store';
import { type ReceiverServer, startReceiverServer } from './helpers/receiver-server';

// The sandbox streaming to our receiver and worker over HTTP, the alert evaluator running on a short
// interval with every rule at its defaults. Normal traffic (duplicates, failing payloads) must raise
// nothing; each provider-side fault must raise its alert within a few evaluations and resolve after.
// ALERT_SOAK_MS sets the normal-traffic period (default 30 s; RELIABILITY.md runs it for 10 minutes).

const SOAK_MS = Number(process.env.ALERT_SOAK_MS ?? 30_000);
const EVERY_MS = 1000;
const RATE = 10;

let sandbox: Sandbox;
let receiver: ReceiverServer;
let webhook: Webhook | null = null;
let stop = false;
let evaluations = 0;
let evaluationMs = 0;
// The evaluator's clock runs this far ahead of the wall clock: a rule's minute window can then empty
// without the test waiting minutes for it (the receiver and the sandbox keep real time).
let clockAheadMs = 0;
let loop: Promise<void>;

async function alerts() {
  const res = await receiver.db.db.execute(sql`select rule, subject, state, summary from alerts order by id`);
  // A plain array: postgres-js answers a Result, which deepEqual tells apart from [].
  return [...rowsOf<{ rule: string; subject: string; state: string; summary: string }>(res)];
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const end = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > end) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  sandbox = await startSandbox({ rateLimit: { limit: 10_000, windowMs: 60_000 } });
  receiver = await startReceiverServer({
    secrets: () => (webhook ? [webhook.secret] : []),
    worker: { context: () => ({ notifyUrl: sandbox.downstreamUrl }) },
  });
  webhook = await sandbox.core.createWebhook({ name: 'app', url: receiver.url });
  // The embedded demo's mix: some duplicates, some payloads our handlers fail on.
  sandbox.core.setKnobs({ rate: RATE, duplicates: 0.05, failures: 0.05, timeScale: 60 });
  const management = async () => skylight.management!({ url: sandbox.apiUrl, key: sandbox.apiKey });
  // The app's two jobs in small: rollups every second, then an evaluation.
  loop = (async () => {
    while (!stop) {
      await receiver.recorder.flush();
      await writeRollups(receiver.db.db, receiver.rollups.take());
      const t = performance.now();
      await evaluateAlerts({
        db: receiver.db.db,
        holder: 'soak',
        now: new Date(Date.now() + clockAheadMs),
        sources: async () => [{ slug: 'skylightchat', provider: 'skylight' }],
        management,
        appUrl: null,
        retentionDays: 30,
        pgliteDir: null,
        resolveAfterMs: 3000,
        leaseMs: 10_000,
      });
      evaluations++;
      evaluationMs += performance.now() - t;
      await new Promise((r) => setTimeout(r, EVERY_MS));
    }
  })();
  sandbox.core.sender.start();
});

after(async () => {
  stop = true;
  await loop;
  await sandbox.stop();
  await receiver.close();
});

describe('alerts under sandbox traffic', () => {
  test(`normal traffic for ${SOAK_MS / 1000} s raises no alert`, { timeout: SOAK_MS + 120_000 }, async () => {
    await new Promise((r) => setTimeout(r, SOAK_MS));
    const res = await receiver.db.db.execute(
      sql`select count(*)::int as accepted, count(*) filter (where status = 'dead')::int as dead from events`,
    );
    const [c] = rowsOf<{ accepted: number; dead: number }>(res);
    console.log(
      `soak: ${evaluations} evaluations (mean ${Math.round(evaluationMs / evaluations)} ms), ${c!.accepted} events, ${c!.dead} dead letters`,
    );
    assert.ok(Number(c!.accepted) >= (RATE * SOAK_MS) / 1000 / 3, 'traffic flowed');
    assert.ok(evaluations >= 3, 'the evaluator ran');
    assert.deepEqual(await alerts(), []);
  });

  test('the webhook switched off on the provider side opens webhook_disabled; on again resolves', async () => {
    const t0 = performance.now();
    await sandbox.core.updateWebhook(webhook!.id, { isActive: false });
    await until(
      'webhook_disabled open',
      async () => (await alerts()).some((a) => a.rule === 'webhook_disabled'),
      30_000,
    );
    console.log(`webhook_disabled opened after ${Math.round(performance.now() - t0)} ms`);
    await sandbox.core.updateWebhook(webhook!.id, { isActive: true });
    await until(
      'webhook_disabled resolved',
      async () => (await alerts()).some((a) => a.rule === 'webhook_disabled' && a.state === 'resolved'),
      30_000,
    );
  });

  test('deliveries signed with a wrong secret open signature_failures, once; the right secret resolves it', async () => {
    sandbox.core.setKnobs({ wrongSecret: true });
    await until(
      'signature_failures open',
      async () => (await alerts()).some((a) => a.rule === 'signature_failures'),
      30_000,
    );
    sandbox.core.setKnobs({ wrongSecret: false });
    // The window must empty before it resolves: shorten it the way an operator would (1 minute), and
    // let the evaluator's clock run 2 minutes ahead rather than wait for it. 2 minutes stays under the
    // backlog rule's 300 s, so no other rule sees a clock jump it would alert on.
    await receiver.db.db.execute(
      sql`insert into alert_rules (rule, enabled, threshold, window_minutes) values ('signature_failures', true, 5, 1)`,
    );
    clockAheadMs = 2 * 60_000;
    await until(
      'signature_failures resolved',
      async () => (await alerts()).some((a) => a.rule === 'signature_failures' && a.state === 'resolved'),
      30_000,
    );
    const sig = (await alerts()).filter((a) => a.rule === 'signature_failures');
    assert.equal(sig.length, 1, 'one burst, one incident');
    assert.match(sig[0]!.summary, /signature/);
  });
});
