import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';

// lib/env reads the environment once, at import: configure it before anything imports it.
const dir = mkdtempSync('/tmp/sandbox-helper-');
process.env.PGLITE_DIR = path.join(dir, 'pglite');
process.env.SANDBOX_RATE = '20';
process.env.SANDBOX_TIME_SCALE = '600';
delete process.env.SKYLIGHT_API_KEY;
delete process.env.DATABASE_URL;

const { and, count, eq } = await import('drizzle-orm');
const { closeDb, getDb } = await import('@/lib/db');
const { auditLog, receipts, sandboxDeliveries, sandboxWebhooks } = await import('@/db/schema');
const { env } = await import('@/lib/env');
const { SkylightClient } = await import('@/lib/providers/skylight/client');
const { KNOWN_EVENTS } = await import('@/lib/providers/skylight/protocol');
const { startEmbeddedSandbox, EMBEDDED_WEBHOOK_NAME } = await import(
  '@/lib/providers/skylight/sandbox/embedded'
);
const { startReceiverServer } = await import('./helpers/receiver-server');

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const end = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

after(() => rmSync(dir, { recursive: true, force: true }));

test('embedded: one persisted webhook to the app, signed stream, secrets follow rotation, survives restart', async () => {
  let secrets: string[] = [];
  const receiver = await startReceiverServer({ secrets: () => secrets, worker: false });
  // The app's port is only known now; the embedded sandbox reads it when it starts.
  env.PORT = Number(new URL(receiver.url).port);
  let sandbox = await startEmbeddedSandbox({ url: receiver.url, outageDemo: true });
  try {
    secrets = await sandbox.secrets();
    assert.equal(secrets.length, 1);
    // A fresh demo starts with its downstream in an outage; the operator ends it, and it stays ended.
    assert.equal(sandbox.downstream()?.outage, true);
    const ended = await sandbox.setDownstreamOutage(false, { actor: 'ops@example.test', ip: null });
    assert.equal(ended.outage, false);
    const accepted = async () => {
      await receiver.recorder.flush();
      const [row] = await receiver.db.db
        .select({ n: count() })
        .from(receipts)
        .where(eq(receipts.outcome, 'accepted'));
      return Number(row?.n ?? 0);
    };
    await until('20 accepted deliveries', async () => (await accepted()) >= 20);

    const db = await getDb();
    const hooks = await db.select().from(sandboxWebhooks);
    assert.equal(hooks.length, 1);
    assert.equal(hooks[0]!.name, EMBEDDED_WEBHOOK_NAME);
    assert.equal(hooks[0]!.url, receiver.url);
    assert.deepEqual(hooks[0]!.events, [...KNOWN_EVENTS]);

    const client = new SkylightClient({ baseUrl: sandbox.apiUrl, apiKey: sandbox.apiKey });
    const [listed] = await client.listWebhooks();
    assert.equal(listed?.id, hooks[0]!.id);
    const rotated = await client.regenerateSecret(hooks[0]!.id);
    assert.deepEqual(await sandbox.secrets(), [rotated.secret], 'secrets() reflects regenerate-secret');
    secrets = [rotated.secret];
    const before = await accepted();
    await until('deliveries signed with the new secret', async () => (await accepted()) >= before + 10);

    await sandbox.stop();
    await closeDb();
    sandbox = await startEmbeddedSandbox({ url: receiver.url, outageDemo: true });
    assert.equal(sandbox.downstream()?.outage, false, 'an ended outage stays ended after a restart');
    const [audit] = await (await getDb())
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'sandbox_outage'));
    assert.deepEqual([audit?.actor, audit?.detail], ['ops@example.test', { outage: false }]);
    const again = await (await getDb()).select().from(sandboxWebhooks);
    assert.deepEqual(
      again.map((w) => [w.id, w.secret]),
      [[hooks[0]!.id, rotated.secret]],
      'reused after a restart',
    );
    assert.deepEqual(await sandbox.secrets(), [rotated.secret]);
    // The restarted sandbox keeps delivering: the API's total is read between two counts of the table.
    const delivered = async () => {
      const [row] = await (await getDb())
        .select({ n: count() })
        .from(sandboxDeliveries)
        .where(and(eq(sandboxDeliveries.webhookId, hooks[0]!.id), eq(sandboxDeliveries.status, 'delivered')));
      return Number(row?.n);
    };
    const storedBefore = await delivered();
    const log = await new SkylightClient({ baseUrl: sandbox.apiUrl, apiKey: sandbox.apiKey }).listDeliveries(
      hooks[0]!.id,
      { status: 'delivered', per_page: 1 },
    );
    const total = log.meta?.total ?? 0;
    assert.ok(total >= 30, 'the delivery log persisted in the database');
    const storedAfter = await delivered();
    assert.ok(
      storedBefore <= total && total <= storedAfter,
      `the API's total ${total} is the table's count (${storedBefore}–${storedAfter} around it)`,
    );
  } finally {
    await sandbox.stop();
    await receiver.close();
    await closeDb();
  }
});
