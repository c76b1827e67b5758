import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { and, count, eq, isNotNull, sql } from 'drizzle-orm';
import { auditLog, receipts, sourceSecrets, sources } from '@/db/schema';
import type { AppError } from '@/lib/errors';
import { type Sandbox, startSandbox } from '@/lib/providers/skylight/sandbox/server';
import { SecretBox } from '@/lib/sources/crypto';
import { addSecret, listSecrets, retireSecret, rotateSecret, type SecretsDeps } from '@/lib/sources/secrets';
import { createSource } from '@/lib/sources/service';
import { openTestDb, type TestDb } from './helpers/db';
import { post, signedDelivery } from './helpers/deliveries';
import { type ReceiverServer, startReceiverServer } from './helpers/receiver-server';

// Two replicas (two receiver stacks, each with its own source cache) behind a round-robin balancer,
// on one database (Postgres with TEST_DATABASE_URL), while the SkyLight sandbox keeps sending. The
// secret is rotated through the provider's API from one replica: no delivery is refused on either,
// the old secret keeps verifying during the overlap and stops after "retire now", with no restart.

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const end = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Forwards each request to the next replica in turn, as a load balancer would. */
async function balancer(targets: () => string[]): Promise<{ url: string; server: Server }> {
  let next = 0;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const list = targets();
    const target = list[next++ % list.length]!;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (typeof v === 'string' && k !== 'host') headers[k] = v;
    try {
      const r = await fetch(target, { method: 'POST', headers, body: Buffer.concat(chunks) });
      res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text());
    } catch {
      res.writeHead(502).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/webhooks/skylightchat`,
    server,
  };
}

const who = { actor: 'ops@example.test', ip: null };

describe('secret rotation across two replicas, deliveries flowing', () => {
  let db: TestDb;
  let sandbox: Sandbox;
  let a: ReceiverServer;
  let b: ReceiverServer;
  let lb: { url: string; server: Server };
  let initial = '';
  let depsA: SecretsDeps;
  let depsB: SecretsDeps;

  before(async () => {
    db = await openTestDb();
    const box = new SecretBox(randomBytes(32));
    sandbox = await startSandbox();
    lb = await balancer(() => [a.url, b.url]);
    for (const w of await sandbox.core.webhooks()) await sandbox.core.deleteWebhook(w.id);
    const hook = await sandbox.core.createWebhook({ name: 'app', url: lb.url });
    // As SKYLIGHT_WEBHOOK_SECRET would be: read once at start, never changed.
    initial = hook.secret;
    a = await startReceiverServer({ secrets: [initial], box, db, worker: false });
    b = await startReceiverServer({ secrets: [initial], box, db, worker: false });
    const management = () => ({ url: sandbox.apiUrl, key: sandbox.apiKey });
    depsA = { db: async () => db.db, box, directory: a.sources, managementApi: management };
    depsB = { db: async () => db.db, box, directory: b.sources, managementApi: management };
    sandbox.core.setKnobs({ rate: 25, duplicates: 0, failures: 0, idMode: 'stable', shape: 'A' });
    sandbox.core.sender.start();
  });

  after(async () => {
    sandbox.core.setKnobs({ rate: 0 });
    await sandbox.stop();
    await new Promise<void>((r) => lb.server.close(() => r()));
    await a.close();
    await b.close();
    await db.close();
  });

  const tally = async () => {
    await a.recorder.flush();
    await b.recorder.flush();
    const rows = await db.db
      .select({ outcome: receipts.outcome, secretId: receipts.secretId, n: count() })
      .from(receipts)
      .groupBy(receipts.outcome, receipts.secretId);
    const of = (outcome: string, secretId?: number | null) =>
      rows
        .filter((r) => r.outcome === outcome && (secretId === undefined || r.secretId === secretId))
        .reduce((n, r) => n + Number(r.n), 0);
    return { of };
  };

  test('rotate, overlap, retire now: nothing refused while the sandbox keeps sending', async () => {
    await until('deliveries flowing to both replicas', async () => (await tally()).of('accepted') >= 20);

    const rotated = await rotateSecret(depsA, 'skylightchat', { overlapSeconds: 3600 }, who);
    const fresh = rotated.secrets.find((s) => s.status === 'active')!;
    const old = rotated.secrets.find((s) => s.status === 'expiring')!;
    assert.ok(fresh.id && old.id, 'the environment secret was stored (seeded) and the new one added');
    assert.equal(old.last4, initial.slice(-4));
    assert.notEqual(fresh.last4, old.last4);
    assert.ok(old.last_matched_at, 'the seeded secret inherits its last use');
    const hours = (old.expires_at!.getTime() - Date.now()) / 3_600_000;
    assert.ok(hours > 0.99 && hours <= 1, 'the old secret stays accepted for the chosen overlap');
    assert.equal(JSON.stringify(rotated).includes(initial), false, 'no secret value in the answer');
    const [webhook] = await sandbox.core.webhooks();
    assert.ok(webhook!.secret.endsWith(fresh.last4!), 'the provider now signs with the new secret');

    // Both replicas take deliveries signed with the new secret (B never heard of the rotation).
    await until(
      'deliveries verified with the new secret',
      async () => (await tally()).of('accepted', fresh.id) >= 30,
    );
    const refusedRows = await db.db
      .select({ reason: receipts.reason, at: receipts.receivedAt, f: receipts.forensics })
      .from(receipts)
      .where(eq(receipts.outcome, 'rejected'));
    assert.deepEqual(refusedRows, [], 'no delivery refused during the switch');

    // Overlap: the old secret still verifies on both replicas.
    for (const r of [a, b]) assert.equal((await post(r.url, signedDelivery(initial))).status, 200);
    // Which secret matched is recorded, and the readiness meter counts it.
    const view = await listSecrets(depsB, 'skylightchat');
    assert.ok((view.secrets.find((s) => s.id === fresh.id)?.recent_matches ?? 0) >= 30);
    assert.ok((view.secrets.find((s) => s.id === old.id)?.recent_matches ?? 0) >= 2);
    await b.recorder.flush();
    await until('last_matched_at written in the background', async () => {
      await a.commit.drain();
      const [row] = await db.db.select().from(sourceSecrets).where(eq(sourceSecrets.id, fresh.id!));
      return row?.lastMatchedAt !== null;
    });

    // Retire now, on the other replica: within seconds the old secret is refused everywhere.
    const retired = await retireSecret(depsB, 'skylightchat', old.id!, who);
    assert.equal(retired.secrets.find((s) => s.id === old.id)?.status, 'retired');
    for (const r of [a, b]) {
      await until(
        'the old secret refused',
        async () => (await post(r.url, signedDelivery(initial))).status === 400,
        8_000,
      );
    }
    for (const r of [a, b]) assert.equal((await post(r.url, signedDelivery(webhook!.secret))).status, 200);
    await a.recorder.flush();
    await b.recorder.flush();
    const refused = await db.db
      .select({ f: receipts.forensics })
      .from(receipts)
      .where(and(eq(receipts.outcome, 'rejected'), isNotNull(receipts.forensics)));
    assert.ok(refused.length >= 2);
    assert.ok(
      refused.every((r) => r.f?.cause === 'retired_secret'),
      'diagnosed: matches a retired secret',
    );

    // Nothing refused from the sandbox's own stream throughout: every refusal above is ours.
    const sandboxRefused = await db.db
      .select({ n: count() })
      .from(receipts)
      .where(and(eq(receipts.outcome, 'rejected'), sql`${receipts.forensics}->>'cause' <> 'retired_secret'`));
    assert.equal(Number(sandboxRefused[0]?.n), 0);

    sandbox.core.setKnobs({ rate: 0 });
    const actions = (await db.db.select({ action: auditLog.action }).from(auditLog)).map((r) => r.action);
    for (const step of ['secret_rotate_start', 'secret_rotate', 'secret_retire'] as const) {
      assert.ok(actions.includes(step), `audited: ${step}`);
    }

    // Neither secret's value is in any answer, audit row, receipt (headers, forensics) or stored row.
    const everything = JSON.stringify([
      await listSecrets(depsA, 'skylightchat'),
      await db.db.select().from(auditLog),
      await db.db.select({ h: receipts.headers, f: receipts.forensics, b: receipts.body }).from(receipts),
      await db.db.select().from(sourceSecrets),
    ]);
    for (const value of [initial, webhook!.secret]) assert.equal(everything.includes(value), false);
  });

  test('a pasted secret with a short overlap: the previous one stops by itself when it ends', async () => {
    sandbox.core.setKnobs({ rate: 0 });
    const next = 'test-fake-pasted-secret-000042';
    const [webhook] = await sandbox.core.webhooks();
    const view = await addSecret(
      depsA,
      'skylightchat',
      { value: next, label: 'pasted', overlapSeconds: 20 },
      who,
    );
    const previous = view.secrets.find((s) => s.last4 === webhook!.secret.slice(-4))!;
    const ends = previous.expires_at!.getTime();
    assert.equal((await post(b.url, signedDelivery(next))).status, 200, 'the new one at once, on B too');
    const sentAt = Date.now();
    const status = (await post(b.url, signedDelivery(webhook!.secret))).status;
    // Only meaningful while the overlap lasts (a very slow machine may already be past it).
    if (sentAt < ends - 1_000) assert.equal(status, 200, 'the previous one still, during the overlap');
    await until(
      'the previous secret expired',
      async () => (await post(a.url, signedDelivery(webhook!.secret))).status === 400,
      45_000,
    );
    assert.ok(Date.now() >= ends - 1_000, 'not before its overlap ended');
    assert.equal((await post(a.url, signedDelivery(next))).status, 200);
  });

  test("a rotation is refused while another of the source runs, and never regenerates another source's webhook", async () => {
    sandbox.core.setKnobs({ rate: 0 });
    const [webhook] = await sandbox.core.webhooks();
    const before = webhook!.secret;
    // Another operator's rotation is under way (marked a moment ago).
    await db.db.update(sources).set({ rotatingSince: sql`now()` }).where(eq(sources.slug, 'skylightchat'));
    await assert.rejects(
      rotateSecret(depsA, 'skylightchat', {}, who),
      (err) => (err as AppError).code === 'conflict' && /under way/.test((err as Error).message),
    );
    await db.db.update(sources).set({ rotatingSince: null }).where(eq(sources.slug, 'skylightchat'));
    // A second SkyLight source: the account's only webhook sends to skylightchat, not to it.
    await createSource(
      depsA,
      {
        slug: 'skylight-eu',
        provider: 'skylight',
        enabled: true,
        secrets: [{ value: 'test-fake-eu-secret-0001' }],
      },
      who,
    );
    await assert.rejects(
      rotateSecret(depsA, 'skylight-eu', {}, who),
      (err) =>
        (err as AppError).code === 'conflict' &&
        /sends to source "skylightchat"/.test((err as Error).message),
    );
    await assert.rejects(
      rotateSecret(depsA, 'skylight-eu', { webhookId: webhook!.id }, who),
      (err) => (err as AppError).code === 'conflict',
    );
    const [after] = await sandbox.core.webhooks();
    assert.equal(after!.secret, before, 'the provider still signs with the same secret');
  });

  test('a regenerate that fails after the provider may have acted says so, in the answer and the audit', async () => {
    let regenerateStatus = 500;
    const fake = createServer((req, res) => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            success: true,
            data: [{ id: 5, name: 'app', url: lb.url, events: [], is_active: true }],
          }),
        );
        return;
      }
      res.writeHead(regenerateStatus, { 'content-type': 'application/json' }).end('{"message":"nope"}');
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}/api/v1`;
    const deps = { ...depsA, managementApi: () => ({ url, key: 'test-key' }) };
    try {
      await assert.rejects(
        rotateSecret(deps, 'skylightchat', {}, who),
        (err) =>
          (err as AppError).code === 'provider_error' && /may have regenerated/.test((err as Error).message),
      );
      regenerateStatus = 404;
      await assert.rejects(
        rotateSecret(deps, 'skylightchat', {}, who),
        (err) =>
          (err as AppError).code === 'not_found' && !/may have regenerated/.test((err as Error).message),
      );
      const rows = await db.db
        .select({ detail: auditLog.detail, result: auditLog.result })
        .from(auditLog)
        .where(and(eq(auditLog.action, 'secret_rotate'), eq(auditLog.result, 'refused')));
      assert.deepEqual(
        rows.map((r) => (r.detail as { provider_may_have_changed: boolean }).provider_may_have_changed),
        [true, false],
      );
    } finally {
      await new Promise<void>((r) => fake.close(() => r()));
    }
  });
});
