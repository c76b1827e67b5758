import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { count, eq, sql } from 'drizzle-orm';
import { events, messages, receipts } from '@/db/schema';
import type { Knobs } from '@/lib/providers/skylight/sandbox/knobs';
import { type Sandbox, startSandbox } from '@/lib/providers/skylight/sandbox/server';
import type { Webhook } from '@/lib/providers/skylight/sandbox/store';
import { type ReceiverServer, startReceiverServer } from './helpers/receiver-server';

// The sandbox delivering to OUR receiver and worker over HTTP, on a fresh database per test.

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const end = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let sandbox: Sandbox;
before(async () => {
  sandbox = await startSandbox();
});
after(() => sandbox.stop());

/** One receiver + webhook per test; the worker notifies the sandbox's downstream sink. */
async function wire(knobs: Partial<Knobs>) {
  let webhook: Webhook | null = null;
  const receiver = await startReceiverServer({
    secrets: () => (webhook ? [webhook.secret] : []),
    worker: { context: () => ({ notifyUrl: sandbox.downstreamUrl }), backoffMs: 20, maxAttempts: 5 },
  });
  for (const w of await sandbox.core.webhooks()) await sandbox.core.deleteWebhook(w.id);
  webhook = await sandbox.core.createWebhook({ name: 'app', url: receiver.url });
  sandbox.core.setKnobs({ duplicates: 0, failures: 0, idMode: 'stable', shape: 'A', ...knobs });
  return receiver;
}

async function outcomes(r: ReceiverServer) {
  await r.recorder.flush();
  const rows = await r.db.db
    .select({ outcome: receipts.outcome, n: count() })
    .from(receipts)
    .groupBy(receipts.outcome);
  return Object.fromEntries(rows.map((x) => [x.outcome, Number(x.n)]));
}

async function statuses(r: ReceiverServer) {
  const rows = await r.db.db
    .select({ status: events.status, n: count() })
    .from(events)
    .groupBy(events.status);
  return Object.fromEntries(rows.map((x) => [x.status, Number(x.n)]));
}

const idle = () => {
  const s = sandbox.core.sender.stats();
  return s.inFlight + s.queued + s.retriesPending === 0;
};

describe('sandbox → receiver → worker', () => {
  for (const idMode of ['stable', 'per-attempt'] as const) {
    test(`${idMode} ids: every event accepted once, duplicates deduped, all processed`, async () => {
      const r = await wire({ idMode, duplicates: 1 });
      try {
        const before = sandbox.core.sender.stats();
        await sandbox.core.sender.emit(30);
        await until('sender idle', idle);
        const sent = sandbox.core.sender.stats();
        assert.equal(sent.delivered - before.delivered, 60, 'every POST answered 2xx');
        assert.equal(sent.duplicates - before.duplicates, 30);
        assert.deepEqual(await outcomes(r), { accepted: 30, duplicate: 30 });
        await until('processed', async () => (await statuses(r)).processed === 30);
        // Per-attempt duplicates have a new delivery_id: only the content fingerprint catches them.
        const reasons = await r.db.db
          .selectDistinct({ reason: receipts.reason })
          .from(receipts)
          .where(eq(receipts.outcome, 'duplicate'));
        assert.equal(reasons.length, 1);
        assert.match(reasons[0]!.reason ?? '', idMode === 'stable' ? /delivery/ : /fingerprint/);
      } finally {
        await r.close();
      }
    });
  }

  test('shape B (flat, Unix seconds) is processed into the example tables', async () => {
    const r = await wire({ shape: 'B' });
    try {
      for (let i = 0; i < 5; i++) await sandbox.core.sender.emit(1, 'message.received');
      await sandbox.core.sender.emit(20);
      await until('sender idle', idle);
      const o = await outcomes(r);
      assert.equal(o.accepted, 25, `receipts by outcome: ${JSON.stringify(o)}`);
      await until('processed', async () => (await statuses(r)).processed === 25);
      const inbound = await r.db.db
        .select({ content: messages.content, channel: messages.channel, direction: messages.direction })
        .from(messages)
        .where(eq(messages.direction, 'inbound'));
      assert.ok(inbound.length >= 5);
      assert.ok(
        inbound.every((m) => m.content && m.channel),
        'flat `value`/`source` mapped',
      );
      const lag = await r.db.db.execute(
        sql`select count(*)::int as n from receipts where provider_ts is null`,
      );
      assert.equal((lag as { rows?: { n: number }[] }).rows?.[0]?.n ?? 0, 0, 'Unix timestamp parsed');
    } finally {
      await r.close();
    }
  });

  test('failing payloads: invalid data dies at once, flaky downstream recovers or dies', async () => {
    const r = await wire({ failures: 1 });
    try {
      await sandbox.core.sender.emit(1, 'contact.created');
      await sandbox.core.sender.emit(30);
      await until('sender idle', idle);
      const rows = await r.db.db
        .select({ status: events.status, payload: events.payload, attempts: events.attempts })
        .from(events);
      assert.equal(rows.length, 31);
      await until(
        'all settled',
        async () => {
          const s = await statuses(r);
          return (s.processed ?? 0) + (s.dead ?? 0) === 31;
        },
        30_000,
      );
      const settled = await r.db.db
        .select({ status: events.status, payload: events.payload, attempts: events.attempts })
        .from(events);
      let invalid = 0;
      let recovered = 0;
      let died = 0;
      for (const e of settled) {
        const text = JSON.stringify(e.payload);
        const flaky = /\[flaky:(\d+):/.exec(text);
        if (text.includes('tomorrow 7pm')) {
          invalid++;
          assert.deepEqual([e.status, e.attempts], ['dead', 1], 'invalid data is permanent');
        } else if (flaky && Number(flaky[1]) < 5) {
          recovered++;
          assert.deepEqual([e.status, e.attempts], ['processed', Number(flaky[1]) + 1]);
        } else if (flaky) {
          died++;
          assert.deepEqual([e.status, e.attempts], ['dead', 5], 'transient until attempts run out');
        } else assert.equal(e.status, 'processed');
      }
      assert.equal(invalid + recovered + died, 30);
      assert.ok(invalid > 0 && recovered + died > 0);
    } finally {
      await r.close();
    }
  });
});
