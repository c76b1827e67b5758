import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { listReconciled, startRun } from '@/db/queries/reconciliation';
import { reconciliationDeliveries, reconciliationRuns } from '@/db/schema';
import { skylight } from '@/lib/providers/skylight';
import type { PlantedLoss } from '@/lib/providers/skylight/sandbox/sender';
import { type Sandbox, startSandbox } from '@/lib/providers/skylight/sandbox/server';
import type { Webhook } from '@/lib/providers/skylight/sandbox/store';
import {
  DEFAULT_RUNNER,
  executeRun,
  type LogSource,
  type RunnerOptions,
  runReconciliation,
} from '@/lib/reconciliation/run';
import { openTestDb } from './helpers/db';
import { type ReceiverServer, startReceiverServer } from './helpers/receiver-server';

// The sandbox (a real HTTP peer with SkyLight's management API and retry schedule) delivering to our
// real receiver; reconciliation reads the sandbox's delivery log over HTTP and classifies every
// delivery against the receipts in the database.

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const end = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const FAST: RunnerOptions = { ...DEFAULT_RUNNER, minIntervalMs: 0 };

async function logSource(sb: Sandbox): Promise<LogSource> {
  // As the background run does (lib/reconciliation/service.ts): last in the key's rate budget.
  const client = await skylight.management!({ url: sb.apiUrl, key: sb.apiKey }, 'bulk');
  return { provider: 'skylight', rules: skylight.delivery, client, appUrl: null };
}

async function rowsOf(r: ReceiverServer) {
  const page = await listReconciled(r.db.db, { limit: 10_000 });
  return new Map(page.rows.map((row) => [row.deliveryId, row]));
}

describe('reconciliation against the sandbox', () => {
  let sandbox: Sandbox;
  let r: ReceiverServer;
  let webhook: Webhook;
  let elsewhere: Server;
  let elsewhereUrl: string;

  before(async () => {
    sandbox = await startSandbox();
    r = await startReceiverServer({ secrets: () => [webhook.secret], worker: false });
    webhook = await sandbox.core.createWebhook({ name: 'app', url: r.url });
    // Another endpoint that answers 200 to anything: where a repointed webhook's deliveries go.
    elsewhere = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200).end('ok'));
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/hooks`;
  });
  after(async () => {
    await sandbox.stop();
    await r.close();
    elsewhere.close();
  });

  const idle = () => {
    const s = sandbox.core.sender.stats();
    return s.inFlight + s.queued + s.retriesPending === 0;
  };

  test('every delivery of a known set is classified, with what we answered and the time left', async () => {
    // Retries in milliseconds: the planted losses run through all 4 attempts and the provider gives up.
    sandbox.core.setKnobs({ timeScale: 60_000, duplicates: 0, failures: 0, idMode: 'stable' });
    const core = sandbox.core.sender;
    await core.emit(4);
    const rejected = await core.emitLosses(3, 'reject');
    const dropped = await core.emitLosses(2, 'drop');
    const recovered = await core.emitLosses(2, 'reject', { attempts: 1 });
    await until('sender idle', idle);

    // The webhook repointed on the provider side: it says delivered, we never saw them.
    await sandbox.core.updateWebhook(webhook.id, { url: elsewhereUrl });
    await core.emit(2, 'contact.created');
    await until('sender idle', idle);
    const repointed = (await sandbox.core.store.listDeliveries(webhook.id, { page: 1, perPage: 2 })).items;
    await sandbox.core.updateWebhook(webhook.id, { url: r.url });

    // Real time: a first attempt fails and its retry waits 2 minutes, so these are still savable.
    sandbox.core.setKnobs({ timeScale: 1 });
    const rejectedNow = await core.emitLosses(2, 'reject');
    const droppedNow = await core.emitLosses(1, 'drop');
    await until('first attempts sent', () => core.stats().inFlight + core.stats().queued === 0);
    await r.recorder.flush();

    const startedAt = Date.now();
    const result = await runReconciliation(
      r.db.db,
      [await logSource(sandbox)],
      { trigger: 'manual', actor: 'test' },
      FAST,
    );
    assert.ok(result.started);
    assert.equal(result.error, null);
    const rows = await rowsOf(r);
    assert.equal(rows.size, 4 + 3 + 2 + 2 + 2 + 2 + 1, 'one row per delivery, not per attempt');

    const classOf = (list: PlantedLoss[]) => list.map((p) => rows.get(p.deliveryId)?.class);
    assert.deepEqual(classOf(rejected), ['provider_failed', 'provider_failed', 'provider_failed']);
    assert.deepEqual(classOf(dropped), ['provider_failed', 'provider_failed']);
    assert.deepEqual(classOf(recovered), ['matched', 'matched']);
    assert.deepEqual(classOf(rejectedNow), ['answered_non_2xx', 'answered_non_2xx']);
    assert.deepEqual(classOf(droppedNow), ['never_received']);
    for (const d of repointed) {
      const row = rows.get(d.deliveryId)!;
      assert.equal(row.class, 'never_received');
      assert.equal(row.providerStatus, 'delivered');
    }
    const matched = [...rows.values()].filter((x) => x.class === 'matched');
    assert.equal(matched.length, 4 + 2);

    // Exhausted: what is known of the lost event, and what we answered each time.
    for (const p of rejected) {
      const row = rows.get(p.deliveryId)!;
      assert.equal(row.exhausted, true);
      assert.equal(row.attemptNumber, 4);
      assert.equal(row.attempts, 4);
      assert.equal(row.eventType, p.eventType);
      assert.equal(row.ourHttpStatus, 400);
      assert.equal(row.ourOutcome, 'rejected');
      assert.equal(row.retryDeadlineAt, null);
    }
    for (const p of dropped) {
      const row = rows.get(p.deliveryId)!;
      assert.equal(row.ourHttpStatus, null, 'none of its attempts reached us');
      assert.equal(row.providerResponseStatus, null);
    }
    // Still retried: the last attempt is due 2 + 10 + 30 minutes after the first failure, plus 30 s.
    for (const p of [...rejectedNow, ...droppedNow]) {
      const row = rows.get(p.deliveryId)!;
      assert.equal(row.exhausted, false);
      assert.equal(row.providerStatus, 'pending');
      const left = row.retryDeadlineAt!.getTime() - startedAt;
      const expected = (2 + 10 + 30) * 60_000 + 30_000;
      assert.ok(left <= expected && left > expected - 60_000, `time left ${left} ms`);
    }
    assert.equal(rows.get(rejectedNow[0]!.deliveryId)!.ourHttpStatus, 400);

    // The run is recorded, and the lease is free again.
    const [run] = await r.db.db
      .select()
      .from(reconciliationRuns)
      .where(eq(reconciliationRuns.id, result.runId));
    assert.equal(run!.state, 'done');
    assert.equal(run!.webhooks, 1);
    assert.ok(run!.providerRows >= rows.size);
  });

  test('a late answer is acked_late; a re-run updates rows in place', async () => {
    const before = await rowsOf(r);
    const one = [...before.values()].find((x) => x.class === 'matched')!;
    // The exact ack time (receipt_acks) is what counts: as if its COMMIT had returned after 31 s.
    await r.db.db.execute(sql`
      insert into receipt_acks (receipt_id, received_at, ack_ms)
      select id, received_at, 31000 from receipts where delivery_id = ${one.deliveryId!}
      on conflict (receipt_id, received_at) do update set ack_ms = excluded.ack_ms`);
    const result = await runReconciliation(
      r.db.db,
      [await logSource(sandbox)],
      { trigger: 'job', actor: null },
      FAST,
    );
    assert.ok(result.started);
    const after = await rowsOf(r);
    assert.equal(after.size, before.size);
    assert.equal(after.get(one.deliveryId)!.class, 'acked_late');
    assert.equal(after.get(one.deliveryId)!.id, one.id);
    assert.equal(after.get(one.deliveryId)!.ourAckMs, 31_000);
  });

  test('one runner at a time; a dead runner is taken over when its lease runs out', async () => {
    const db = r.db.db;
    const held = await startRun(db, { trigger: 'job', actor: null, leaseMs: 60_000 });
    assert.ok(held !== null);
    const refused = await runReconciliation(
      db,
      [await logSource(sandbox)],
      { trigger: 'job', actor: null },
      FAST,
    );
    assert.equal(refused.started, false);
    await db
      .update(reconciliationRuns)
      .set({ leaseUntil: sql`now() - interval '1 second'` })
      .where(eq(reconciliationRuns.id, held));
    const taken = await runReconciliation(
      db,
      [await logSource(sandbox)],
      { trigger: 'job', actor: null },
      FAST,
    );
    assert.ok(taken.started);
    const [old] = await db.select().from(reconciliationRuns).where(eq(reconciliationRuns.id, held));
    assert.equal(old!.state, 'abandoned');
    const running = await db.select().from(reconciliationRuns).where(eq(reconciliationRuns.state, 'running'));
    assert.equal(running.length, 0);
  });
});

describe('a run that loses its lease', () => {
  test('stops before its next request to the provider, and leaves the run that took over alone', async () => {
    const db = await openTestDb();
    try {
      const asked: number[] = [];
      let runId = 0;
      const hooks = [1, 2].map((id) => ({
        id,
        name: `h${id}`,
        url: 'https://x.test/',
        events: [],
        is_active: true,
      }));
      const client = {
        listWebhooks: async () => hooks,
        deliveryLog: async (id: number) => {
          asked.push(id);
          // While the first webhook's log is read, its lease runs out and another runner takes over.
          await db.db
            .update(reconciliationRuns)
            .set({ state: 'abandoned', error: 'lease expired' })
            .where(eq(reconciliationRuns.id, runId));
          return { entries: [], lastPage: 1 };
        },
      } as unknown as LogSource['client'];
      const runner: RunnerOptions = {
        ...FAST,
        sleep: async () => {},
      };
      const started = await startRun(db.db, { trigger: 'job', actor: null, leaseMs: 60_000 });
      runId = started!;
      const result = await executeRun(
        db.db,
        runId,
        [{ provider: 'skylight', rules: skylight.delivery, client, appUrl: null }],
        runner,
      );
      assert.deepEqual(asked, [1], 'the second webhook was not read');
      assert.match(result.error ?? '', /lost its lease/);
      const [row] = await db.db.select().from(reconciliationRuns).where(eq(reconciliationRuns.id, runId));
      assert.equal(row!.state, 'abandoned', 'not overwritten by the stopped run');
    } finally {
      await db.close();
    }
  });
});

describe('reconciliation paging and 429', () => {
  test('reads every page, waits out the rate limit, and matches per-attempt ids by fingerprint', async () => {
    // Two requests per 6 s: the client does not wait that long itself, the run does.
    const sandbox = await startSandbox({ rateLimit: { limit: 2, windowMs: 6000 } });
    let webhook: Webhook | null = null;
    const r = await startReceiverServer({ secrets: () => (webhook ? [webhook.secret] : []), worker: false });
    try {
      webhook = await sandbox.core.createWebhook({ name: 'app', url: r.url });
      sandbox.core.setKnobs({ timeScale: 60_000, idMode: 'per-attempt', duplicates: 0 });
      await sandbox.core.sender.emit(130);
      const recovered = await sandbox.core.sender.emitLosses(3, 'reject', { attempts: 2 });
      await until('sender idle', () => {
        const s = sandbox.core.sender.stats();
        return s.inFlight + s.queued + s.retriesPending === 0;
      });
      await r.recorder.flush();
      const waits: number[] = [];
      const runner: RunnerOptions = {
        ...FAST,
        sleep: (ms) => {
          waits.push(ms);
          return new Promise((res) => setTimeout(res, ms));
        },
      };
      // Another replica spends the window first: the run's first request meets a real 429.
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${sandbox.apiUrl}/webhooks/events`, {
          headers: { 'x-api-key': sandbox.apiKey },
        });
        await res.body?.cancel();
      }
      const result = await runReconciliation(
        r.db.db,
        [await logSource(sandbox)],
        { trigger: 'job', actor: null },
        runner,
      );
      assert.ok(result.started);
      assert.equal(result.error, null);
      // 130 + 3 × 3 attempts = 139 log rows: 2 pages of 100.
      assert.equal(result.providerRows, 139);
      assert.equal(result.pages, 2);
      // One 429 waited out; after it the key's budget held the run back (1 of the 2 kept for the
      // watchdog and operators) without spending another at the provider.
      assert.equal(result.rateLimited, 1, 'the one 429 met; holds are not counted as 429s');
      assert.ok(waits.filter((ms) => ms >= 1000).length >= 3, 'the 429, then a hold before each page');
      const rows = await r.db.db.select().from(reconciliationDeliveries);
      // Attempts with new ids are linked by fingerprint: one row per event (two generated events with
      // identical content, which the receiver also takes for one, may share a row).
      assert.equal(
        rows.reduce((n, x) => n + x.attempts, 0),
        139,
      );
      assert.ok(rows.length >= 130 && rows.length <= 133, `${rows.length} rows`);
      assert.ok(rows.every((x) => x.class === 'matched'));
      for (const p of recovered) {
        assert.ok(!rows.some((x) => x.deliveryId === p.deliveryId), 'the latest attempt carries a new id');
      }
      assert.ok(rows.filter((x) => x.attempts === 3).length >= 3);
    } finally {
      await sandbox.stop();
      await r.close();
    }
  });
});

describe('reconciliation export', () => {
  test('CSV of the lost events: one line each, formula-looking cells neutralised', async () => {
    const { openTestDb } = await import('./helpers/db');
    const { iterateReconciled, upsertReconciled } = await import('@/db/queries/reconciliation');
    const { exportResponse } = await import('@/lib/api/stream-export');
    const { RECONCILIATION_EXPORT_COLUMNS, reconciliationView } = await import('@/lib/reconciliation/view');
    const h = await openTestDb();
    try {
      const base = {
        provider: 'skylight',
        webhookId: 7,
        source: 'skylightchat',
        eventType: 'contact.created',
        providerStatus: 'failed',
        attempts: 4,
        attemptNumber: 4,
        firstSentAt: new Date('2026-01-01T10:00:00Z'),
        lastSentAt: new Date('2026-01-01T10:42:00Z'),
        retryDeadlineAt: null,
        providerResponseStatus: 400,
        receiptId: null,
        ourOutcome: 'rejected',
        ourAckMs: 3,
      };
      await upsertReconciled(h.db, [
        {
          ...base,
          chainKey: 'id:a',
          deliveryId: 'a',
          class: 'provider_failed',
          exhausted: true,
          ourHttpStatus: 400,
          ourReason: '=HYPERLINK("x")',
        },
        {
          ...base,
          chainKey: 'id:b',
          deliveryId: 'b',
          class: 'provider_failed',
          exhausted: true,
          ourHttpStatus: null,
          ourReason: null,
        },
        {
          ...base,
          chainKey: 'id:c',
          deliveryId: 'c',
          class: 'matched',
          exhausted: false,
          ourHttpStatus: 200,
          ourReason: null,
        },
      ]);
      const now = new Date();
      async function* rows() {
        for await (const r of iterateReconciled(h.db, { class: 'provider_failed' }, 1))
          yield reconciliationView(r, now);
      }
      const text = await (
        await exportResponse(rows(), RECONCILIATION_EXPORT_COLUMNS, 'csv', 'reconciliation')
      ).text();
      const lines = text.trim().split('\r\n');
      assert.equal(lines[0], RECONCILIATION_EXPORT_COLUMNS.join(','));
      assert.equal(lines.length, 3, 'header and the two lost events, paged one row at a time');
      assert.ok(lines[1]!.startsWith('b,contact.created,provider_failed,failed,4,2026-01-01T10:00:00.000Z'));
      assert.ok(lines[2]!.includes(`"'=HYPERLINK(""x"")"`), 'the formula is shown as text');
      assert.match(lines[1]!, /Lost: the provider gave up after 4 attempts/);
    } finally {
      await h.close();
    }
  });
});

describe('reconciliation counts', () => {
  test('a retry deadline already past is not counted as retrying', async () => {
    const { openTestDb } = await import('./helpers/db');
    const { reconciledCounts, upsertReconciled } = await import('@/db/queries/reconciliation');
    const h = await openTestDb();
    try {
      const row = (key: string, deadline: Date) => ({
        provider: 'skylight',
        webhookId: 9,
        source: 'skylightchat',
        chainKey: key,
        deliveryId: key,
        eventType: 'contact.created',
        class: 'never_received' as const,
        providerStatus: 'failed',
        exhausted: false,
        attempts: 2,
        attemptNumber: 2,
        firstSentAt: new Date(Date.now() - 20 * 60_000),
        lastSentAt: new Date(Date.now() - 10 * 60_000),
        retryDeadlineAt: deadline,
        providerResponseStatus: null,
        receiptId: null,
        ourHttpStatus: null,
        ourOutcome: null,
        ourReason: null,
        ourAckMs: null,
      });
      await upsertReconciled(h.db, [
        row('due-later', new Date(Date.now() + 30 * 60_000)),
        row('deadline-passed', new Date(Date.now() - 60_000)),
      ]);
      const counts = await reconciledCounts(h.db, {});
      assert.deepEqual(
        counts.map((c) => [c.class, c.count, c.retrying]),
        [['never_received', 2, 1]],
      );
    } finally {
      await h.close();
    }
  });
});
