import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { openDb } from '@/db/client';
import { record } from '@/db/histogram';
import { acknowledgeAlert, acquireLease, readMemory, upsertRule } from '@/db/queries/alerts';
import { listDeadLetters } from '@/db/queries/dlq';
import { pruneOld } from '@/db/queries/maintenance';
import { type RollupCell, writeRollups } from '@/db/queries/rollups';
import type { AlertRule } from '@/db/schema';
import { deliverNotifications, type EngineDeps, evaluateAlerts } from '@/lib/alerts/engine';
import { evaluationState, watchEvaluation } from '@/lib/alerts/evaluator-health';
import { transitionText } from '@/lib/alerts/summaries';
import { createdBeforeFor, keptUntil } from '@/lib/dlq-retention';
import { skylight } from '@/lib/providers/skylight';
import { type Sandbox, startSandbox } from '@/lib/providers/skylight/sandbox/server';
import { openTestDb, type TestDb } from './helpers/db';

// The rule engine against a real database (PGlite, or Postgres with TEST_DATABASE_URL) and the real
// SkyLight sandbox as the provider's management API. Time is the evaluator's `now`, so a condition
// can start, hold and clear without waiting.

const MIN = 60_000;
const ADMIN = { actor: 'ops@example.test', ip: '127.0.0.1' };

let tdb: TestDb;
let sandbox: Sandbox;
let hookId: number;
const APP = 'http://127.0.0.1:3999';

before(async () => {
  tdb = await openTestDb();
  sandbox = await startSandbox({ rateLimit: { limit: 10_000, windowMs: 60_000 } });
  hookId = (await sandbox.core.createWebhook({ name: 'ours', url: `${APP}/api/webhooks/skylightchat` })).id;
});
after(async () => {
  await sandbox.stop();
  await tdb.close();
});

beforeEach(async () => {
  await tdb.db.execute(sql`truncate alerts, alert_rules, alert_notifications, job_leases, receipt_rollups,
    latency_rollups, receipt_counts_hourly, payload_drift, events, receipts restart identity cascade`);
  await tdb.db.execute(sql`delete from settings where key like 'alerts:%'`);
});

function deps(now: Date, extra: Partial<EngineDeps> = {}): EngineDeps {
  return {
    db: tdb.db,
    holder: 'replica-a',
    now,
    sources: async () => [{ slug: 'skylightchat', provider: 'skylight' }],
    management: async () => null,
    appUrl: null,
    retentionDays: 30,
    pgliteDir: null,
    resolveAfterMs: 2 * MIN,
    leaseMs: 60_000,
    ...extra,
  };
}

/** Only the named rule runs: the others are switched off for the test. */
async function only(rule: AlertRule, settings: { threshold?: number; windowMinutes?: number } = {}) {
  const { RULE_DEFINITIONS } = await import('@/lib/alerts/rules');
  for (const r of Object.keys(RULE_DEFINITIONS) as AlertRule[]) {
    const d = RULE_DEFINITIONS[r];
    await upsertRule(
      tdb.db,
      r,
      {
        enabled: r === rule,
        threshold: r === rule ? (settings.threshold ?? d.threshold) : d.threshold,
        windowMinutes: r === rule ? (settings.windowMinutes ?? d.windowMinutes) : d.windowMinutes,
      },
      ADMIN,
    );
  }
}

async function alertRows() {
  const res = await tdb.db.execute(
    sql`select id, rule, subject, state, summary, detail from alerts order by id`,
  );
  return (
    (res as unknown as { rows: Array<Record<string, unknown>> }).rows ??
    (res as unknown as Array<Record<string, unknown>>)
  );
}

async function rows<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  const res = await tdb.db.execute(query);
  return (res as unknown as { rows?: T[] }).rows ?? (res as unknown as T[]);
}

async function outbox() {
  const res = await tdb.db.execute(sql`select transition from alert_notifications order by id`);
  const rows =
    (res as unknown as { rows?: Array<{ transition: string }> }).rows ??
    (res as unknown as Array<{ transition: string }>);
  return rows.map((r) => r.transition);
}

const cell = (
  minute: number,
  outcome: RollupCell['outcome'],
  count: number,
  eventType = '',
  lagMs?: number,
): RollupCell => {
  const lag = {};
  if (lagMs !== undefined) record(lag, lagMs, count);
  return { minute, source: 'skylightchat', eventType, outcome, count, ack: record({}, 5, count), lag };
};

/** Runs one round and returns the transitions it made. */
async function round(now: number, extra: Partial<EngineDeps> = {}) {
  const changes = await evaluateAlerts(deps(new Date(now), extra));
  assert.ok(changes, 'this replica holds the lease');
  return changes.map((c) => `${c.transition}:${c.alert.rule}:${c.alert.subject}`);
}

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

describe('alert rules fire once when their condition starts, and resolve when it clears', () => {
  test('signature_failures: 4 refusals are below the threshold, 5 open one incident that resolves later', async () => {
    await only('signature_failures', { threshold: 5, windowMinutes: 5 });
    await writeRollups(tdb.db, [cell(T0, 'rejected', 4)]);
    assert.deepEqual(await round(T0 + 30_000), []);
    await writeRollups(tdb.db, [cell(T0 + MIN, 'rejected', 1)]);
    assert.deepEqual(await round(T0 + MIN + 30_000), ['opened:signature_failures:skylightchat']);
    await writeRollups(tdb.db, [cell(T0 + 2 * MIN, 'rejected', 30)]);
    assert.deepEqual(await round(T0 + 2 * MIN + 30_000), [], 'a burst going on is the same incident');
    // Refusals stop; the window empties at T0+7min; the incident resolves after 2 min clear.
    assert.deepEqual(await round(T0 + 8 * MIN), []);
    assert.deepEqual(await round(T0 + 11 * MIN), ['resolved:signature_failures:skylightchat']);
    const [a] = await alertRows();
    assert.equal(a!.state, 'resolved');
    assert.match(String(a!.summary), /35 refused request/);
    const detail = a!.detail as { deadline_at: string };
    // SkyLight gives up 42 minutes after the first refused attempt.
    assert.equal(detail.deadline_at, new Date(T0 + 42 * MIN).toISOString());
    assert.deepEqual(await outbox(), ['opened', 'resolved']);
  });

  test('signature_failures: the deadline stays on the first refusal while refusals go on; past it the channel hears events are lost, acknowledged or not', async () => {
    await only('signature_failures', { threshold: 5, windowMinutes: 5 });
    const refuse = (minute: number) => writeRollups(tdb.db, [cell(T0 + minute * MIN, 'rejected', 6)]);
    await refuse(0);
    assert.deepEqual(await round(T0 + 30_000), ['opened:signature_failures:skylightchat']);
    for (let m = 1; m <= 30; m++) await refuse(m);
    assert.deepEqual(await round(T0 + 30 * MIN + 30_000), []);
    let [a] = await alertRows();
    let detail = a!.detail as { deadline_at: string; lost: boolean; lost_count?: number };
    assert.equal(
      detail.deadline_at,
      new Date(T0 + 42 * MIN).toISOString(),
      'not 42 min after the window start',
    );
    assert.equal(detail.lost, false);
    await acknowledgeAlert(tdb.db, Number(a!.id), ADMIN, (x) => transitionText('acknowledged', x));

    for (let m = 31; m <= 44; m++) await refuse(m);
    assert.deepEqual(await round(T0 + 44 * MIN + 30_000), ['lost:signature_failures:skylightchat']);
    [a] = await alertRows();
    detail = a!.detail as typeof detail;
    assert.equal(a!.state, 'acknowledged');
    assert.equal(detail.lost, true);
    // Refused in the minutes T0 and T0+1, whose last retries have certainly passed: 2 × 6. The
    // minute T0+2 is not yet: a refusal at T0+2:59 is retried until T0+44:59.
    assert.equal(detail.lost_count, 12);
    // The next delivery to be given up: the oldest refusal still within the retry window, from its
    // minute's first second (it may be given up already: "deadline passed", not yet "lost").
    assert.equal(detail.deadline_at, new Date(T0 + 44 * MIN).toISOString());
    assert.deepEqual(await round(T0 + 45 * MIN + 30_000), [], 'told once');
    assert.deepEqual(await outbox(), ['opened', 'acknowledged', 'lost']);
  });

  test("receiver_unavailable: our 503s open it with the provider's deadline; past the retry window they are lost", async () => {
    await only('receiver_unavailable', { threshold: 5, windowMinutes: 5 });
    const busy = (minute: number, n: number, source = 'skylightchat') =>
      writeRollups(tdb.db, [{ ...cell(T0 + minute * MIN, 'unavailable', n), source }]);
    await busy(0, 4);
    await busy(0, 50, '');
    assert.deepEqual(await round(T0 + 30_000), [], '4 are under 5; requests to no source never count');
    await busy(1, 3);
    assert.deepEqual(await round(T0 + MIN + 30_000), ['opened:receiver_unavailable:skylightchat']);
    let a = (await alertRows()).find((x) => x.rule === 'receiver_unavailable')!;
    assert.match(String(a.summary), /skylightchat: 7 deliveries answered 503 in 5 min/);
    let detail = a.detail as { deadline_at: string; lost: boolean; lost_count?: number };
    assert.equal(detail.deadline_at, new Date(T0 + 42 * MIN).toISOString());
    assert.equal(detail.lost, false);
    for (let m = 2; m <= 44; m++) await busy(m, 6);
    assert.deepEqual(await round(T0 + 44 * MIN + 30_000), ['lost:receiver_unavailable:skylightchat']);
    a = (await alertRows()).find((x) => x.rule === 'receiver_unavailable')!;
    detail = a.detail as typeof detail;
    assert.equal(detail.lost, true);
    assert.equal(detail.lost_count, 7, 'the minutes T0 and T0+1');
    const [message] = await rows<{ text: string }>(
      sql`select text from alert_notifications where transition = 'lost'`,
    );
    assert.match(message!.text, /Receiver answering 503 \(skylightchat\) lost/);
  });

  test('signature_failures is per source; requests to no known source never raise it', async () => {
    await only('signature_failures', { threshold: 5, windowMinutes: 5 });
    const on = (source: string, n: number): RollupCell => ({ ...cell(T0, 'rejected', n), source });
    await writeRollups(tdb.db, [on('skylightchat', 2), on('sly', 6), on('', 500)]);
    assert.deepEqual(await round(T0 + 30_000), ['opened:signature_failures:sly']);
    await writeRollups(tdb.db, [on('skylightchat', 3)]);
    assert.deepEqual(await round(T0 + 60_000), ['opened:signature_failures:skylightchat']);
  });

  test('signature_failures names the diagnosed cause (signature forensics) in its summary', async () => {
    await only('signature_failures', { threshold: 3, windowMinutes: 5 });
    const at = new Date(T0 + 20_000).toISOString();
    for (let i = 0; i < 3; i++)
      await tdb.db.execute(sql`
        insert into receipts (source, provider, outcome, reason, http_status, ack_ms, received_at, headers, body_bytes, forensics)
        values ('skylightchat', 'skylight', 'rejected', 'signature_mismatch', 400, 1, ${at}::timestamptz, '{}'::jsonb, 10,
                ${JSON.stringify({ cause: 'retired_secret' })}::jsonb)`);
    await writeRollups(tdb.db, [cell(T0, 'rejected', 3)]);
    assert.deepEqual(await round(T0 + 30_000), ['opened:signature_failures:skylightchat']);
    const [a] = await alertRows();
    assert.match(String(a!.summary), /diagnosed: 3 refused signatures: 3 matches a retired secret/);
    const causes = (a!.detail as { evidence: { causes: Array<{ cause: string; count: number }> } }).evidence
      .causes;
    assert.deepEqual(
      causes.map((c) => [c.cause, c.count]),
      [['retired_secret', 3]],
    );
  });

  test('payload_drift: a change found opens one incident per source; it resolves once the window has none', async () => {
    await only('payload_drift', { threshold: 1, windowMinutes: 60 });
    assert.deepEqual(await round(T0), []);
    await tdb.db.execute(sql`
      insert into payload_drift (source, event_type, path, kind, detail, event_id, detected_at)
      values ('skylightchat', 'contact.updated', 'data.contact.nickname', 'new_field', '', 1, ${new Date(T0 + MIN).toISOString()}::timestamptz),
             ('skylightchat', 'contact.updated', 'data.contact.id', 'type_change', 'number → string', 2, ${new Date(T0 + MIN).toISOString()}::timestamptz)`);
    assert.deepEqual(await round(T0 + 2 * MIN), ['opened:payload_drift:skylightchat']);
    assert.deepEqual(await round(T0 + 3 * MIN), [], 'the same changes are the same incident');
    const [a] = await alertRows();
    assert.match(String(a!.summary), /1 new field\(s\), 1 type change\(s\)/);
    assert.equal((a!.detail as { at_risk: unknown[] }).at_risk.length, 2);
    // The window (60 min) passes with nothing new; 2 min clear later it resolves.
    assert.deepEqual(await round(T0 + 62 * MIN), []);
    assert.deepEqual(await round(T0 + 65 * MIN), ['resolved:payload_drift:skylightchat']);
  });

  test('lag_high: p95 over the limit opens, normal lag resolves', async () => {
    await only('lag_high', { threshold: 10_000, windowMinutes: 5 });
    await writeRollups(tdb.db, [cell(T0, 'accepted', 50, 'contact.created', 800)]);
    assert.deepEqual(await round(T0 + 30_000), []);
    await writeRollups(tdb.db, [cell(T0 + MIN, 'accepted', 200, 'contact.created', 45_000)]);
    assert.deepEqual(await round(T0 + MIN + 30_000), ['opened:lag_high:skylightchat']);
    await writeRollups(tdb.db, [cell(T0 + 7 * MIN, 'accepted', 100, 'contact.created', 500)]);
    assert.deepEqual(await round(T0 + 7 * MIN + 30_000), []);
    assert.deepEqual(await round(T0 + 10 * MIN), ['resolved:lag_high:skylightchat']);
  });

  test('silence: a steady type that stops fires after its limit; a rare type never does', async () => {
    await only('silence', { threshold: 3, windowMinutes: 10 });
    const cells: RollupCell[] = [];
    for (let m = 0; m < 60; m++) cells.push(cell(T0 + m * MIN, 'accepted', 3, 'message.received'));
    // A rare type: five deliveries an hour apart.
    for (let h = 0; h < 5; h++) cells.push(cell(T0 - h * 60 * MIN, 'accepted', 1, 'booking.deleted'));
    await writeRollups(tdb.db, cells);
    const last = T0 + 59 * MIN;
    assert.deepEqual(await round(last + 5 * MIN), [], 'quiet for 4 min: not yet');
    assert.deepEqual(await round(last + 11 * MIN + 1000), ['opened:silence:skylightchat:message.received']);
    assert.deepEqual(await round(last + 30 * MIN), [], 'still one incident');
    await writeRollups(tdb.db, [cell(last + 31 * MIN, 'accepted', 2, 'message.received')]);
    assert.deepEqual(await round(last + 32 * MIN), []);
    assert.deepEqual(await round(last + 35 * MIN), ['resolved:silence:skylightchat:message.received']);
    assert.ok(!(await alertRows()).some((a) => String(a.subject).endsWith('booking.deleted')));
  });

  test('silence is per source: one account that stops is not hidden by another that goes on', async () => {
    await only('silence', { threshold: 3, windowMinutes: 10 });
    const cells: RollupCell[] = [];
    for (let m = 0; m < 60; m++) {
      cells.push(cell(T0 + m * MIN, 'accepted', 3, 'message.received'));
      cells.push({ ...cell(T0 + m * MIN, 'accepted', 2, 'message.received'), source: 'second-account' });
    }
    // The second account goes on for the whole hour after; ours stops.
    for (let m = 60; m < 120; m++) {
      cells.push({ ...cell(T0 + m * MIN, 'accepted', 2, 'message.received'), source: 'second-account' });
    }
    await writeRollups(tdb.db, cells);
    assert.deepEqual(await round(T0 + 120 * MIN), ['opened:silence:skylightchat:message.received']);
    const [a] = await alertRows();
    assert.match(String(a!.summary), /^skylightchat:message\.received: nothing for 60 min/);
  });

  test('a source disabled or deleted is stopped, not silent: its silence incident resolves', async () => {
    await only('silence', { threshold: 3, windowMinutes: 10 });
    const cells: RollupCell[] = [];
    for (let m = 0; m < 60; m++) {
      cells.push({ ...cell(T0 + m * MIN, 'accepted', 2, 'message.received'), source: 'old-account' });
    }
    await writeRollups(tdb.db, cells);
    const both = async () => [
      { slug: 'skylightchat', provider: 'skylight' as const },
      { slug: 'old-account', provider: 'skylight' as const },
    ];
    assert.deepEqual(await round(T0 + 80 * MIN, { sources: both }), [
      'opened:silence:old-account:message.received',
    ]);
    // Switched off on the Sources page: the rules no longer watch it.
    await round(T0 + 81 * MIN);
    assert.deepEqual(await round(T0 + 84 * MIN), ['resolved:silence:old-account:message.received']);
    assert.deepEqual(await round(T0 + 90 * MIN), [], 'and it does not open again');
  });

  test('a silence incident opened before it was per source (the type alone) stays open until any source sends the type', async () => {
    await only('silence', { threshold: 3, windowMinutes: 10 });
    const lastSeen = T0 - 26 * 60 * MIN;
    await tdb.db.execute(sql`insert into alerts (rule, subject, state, severity, summary, detail, opened_at, last_seen_at)
      values ('silence', 'message.received', 'open', 'warning', 'message.received: nothing for 11 min',
        ${JSON.stringify({ evidence: { last_seen_at: new Date(lastSeen).toISOString(), limit_minutes: 10, usual_gap_minutes: 1 } })}::jsonb,
        ${new Date(lastSeen + 11 * MIN).toISOString()}, ${new Date(lastSeen + 11 * MIN).toISOString()})`);
    assert.deepEqual(await round(T0), [], 'still silent: it stays open');
    assert.equal((await alertRows())[0]!.state, 'open');
    await writeRollups(tdb.db, [
      { ...cell(T0 + MIN, 'accepted', 1, 'message.received'), source: 'second-account' },
    ]);
    await round(T0 + 2 * MIN);
    assert.deepEqual(await round(T0 + 5 * MIN), ['resolved:silence:message.received']);
  });

  test('silence stays open while the type stays silent, past the day its learning window holds', async () => {
    await only('silence', { threshold: 3, windowMinutes: 10 });
    const cells: RollupCell[] = [];
    for (let m = 0; m < 60; m++) cells.push(cell(T0 + m * MIN, 'accepted', 3, 'message.received'));
    await writeRollups(tdb.db, cells);
    const last = T0 + 59 * MIN;
    assert.deepEqual(await round(last + 11 * MIN + 1000), ['opened:silence:skylightchat:message.received']);
    // 23 h later the window holds fewer than 20 of its minutes; 25 h later none.
    for (const at of [
      last + 23.5 * 60 * MIN,
      last + 23.6 * 60 * MIN,
      last + 25 * 60 * MIN,
      last + 25.1 * 60 * MIN,
    ])
      assert.deepEqual(await round(at), [], 'still silent: the incident stays open');
    const [a] = await alertRows();
    assert.equal(a!.state, 'open');
    assert.match(String(a!.summary), /nothing for 15\d\d min/);
    const back = last + 25.2 * 60 * MIN;
    await writeRollups(tdb.db, [cell(back, 'accepted', 1, 'message.received')]);
    assert.deepEqual(await round(back + MIN), []);
    assert.deepEqual(await round(back + 4 * MIN), ['resolved:silence:skylightchat:message.received']);
  });

  test('backlog and dlq_growth: per source, with the dead letters listed and their retention deadline', async () => {
    await only('backlog', { threshold: 300 });
    await upsertRule(tdb.db, 'dlq_growth', { enabled: true, threshold: 10, windowMinutes: 15 }, ADMIN);
    // 40 deliveries accepted on sly in the window: 7 dead letters are 17.5 % but only 8.7 % with 95 %
    // confidence (the rule's lower bound); 8 are 20 %, at least 10.5 %. The 10,000 accepted on
    // skylightchat meanwhile do not dilute sly's share.
    await writeRollups(tdb.db, [
      { ...cell(T0, 'accepted', 40, 'payment.failed'), source: 'sly' },
      cell(T0, 'accepted', 10_000, 'contact.created'),
    ]);
    const created = new Date(T0 - 10 * MIN);
    await tdb.db.execute(sql`insert into events (source, provider, delivery_id, event_type, payload, status, next_attempt_at, created_at)
      values ('skylightchat', 'skylight', 'd-1', 'contact.created', '{}', 'pending', ${new Date(T0 - 200_000).toISOString()}, ${created.toISOString()})`);
    assert.deepEqual(await round(T0), [], 'waiting 200 s is under 300 s');
    assert.deepEqual(await round(T0 + 120_000), ['opened:backlog:skylightchat']);
    const die = (id: string, at: number) =>
      tdb.db.execute(sql`insert into events (source, provider, delivery_id, event_type, payload, status, dead_at, last_error, created_at)
        values ('sly', 'sly', ${id}, 'payment.failed', '{}', 'dead', ${new Date(at).toISOString()}, 'downstream 500', ${created.toISOString()})`);
    for (const i of [0, 1, 2, 3, 4, 5, 6]) await die(`d-0${i}`, T0 + 100_000 + i);
    assert.deepEqual(await round(T0 + 130_000), [], '7 of 40 could still be a 10 % failure rate by chance');
    await die('d-2', T0 + 130_000);
    assert.deepEqual(await round(T0 + 140_000), ['opened:dlq_growth:sly']);
    const dlq = (await alertRows()).find((a) => a.rule === 'dlq_growth')!;
    const detail = dlq.detail as { at_risk: Array<{ delivery_id: string }>; deadline_at: string };
    assert.equal(detail.at_risk[0]!.delivery_id, 'd-2');
    assert.equal(detail.deadline_at, new Date(created.getTime() + 30 * 86_400_000).toISOString());
    const [message] = await rows<{ text: string }>(
      sql`select text from alert_notifications where transition = 'opened' and alert_id = ${dlq.id}`,
    );
    assert.match(message!.text, /oldest raw receipt is pruned at .* \(retention\)/);
    assert.doesNotMatch(message!.text, /provider gives up/, 'the provider has its 2xx: ours to keep');
    // A delivery from 29 days ago replayed and dead now, then 20 newer: the deadline is its, a day away.
    const replayed = new Date(T0 - 29 * 86_400_000);
    await tdb.db.execute(sql`insert into events (source, provider, delivery_id, event_type, payload, status, dead_at, last_error, created_at)
      values ('sly', 'sly', 'd-old', 'payment.failed', '{}', 'dead', ${new Date(T0 + 141_000).toISOString()}, 'downstream 500', ${replayed.toISOString()})`);
    for (let i = 0; i < 20; i++) await die(`d-new-${i}`, T0 + 142_000 + i);
    await round(T0 + 145_000);
    const later = (await alertRows()).find((a) => a.rule === 'dlq_growth')!.detail as { deadline_at: string };
    assert.equal(later.deadline_at, new Date(replayed.getTime() + 30 * 86_400_000).toISOString());
    await tdb.db.execute(sql`update events set status = 'processed' where delivery_id = 'd-1'`);
    assert.deepEqual(await round(T0 + 150_000), []);
    assert.deepEqual(await round(T0 + 150_000 + 2 * MIN), ['resolved:backlog:skylightchat']);
  });

  test("provider_notice: Sly's webhook.dlq opens an incident naming what it gave up on; it resolves once the window holds none", async () => {
    await only('provider_notice', { threshold: 1, windowMinutes: 60 });
    const sources = async () => [
      { slug: 'skylightchat', provider: 'skylight' as const },
      { slug: 'sly', provider: 'sly' as const },
    ];
    const notice = (source: string, provider: string, type: string, id: string, at: number) =>
      tdb.db.execute(sql`insert into events (source, provider, delivery_id, event_type, payload, status, created_at)
        values (${source}, ${provider}, ${id}, ${type},
                ${JSON.stringify({ type, data: { delivery_id: 'dlv_lost_1', endpoint: 'https://ops.example.test/api/webhooks/sly' } })}::jsonb,
                'processed', ${new Date(at).toISOString()})`);
    // A business event, and a same-named type from a provider that has no such notice: nothing.
    await notice('sly', 'sly', 'transfer.failed', 'evt-1', T0);
    await notice('skylightchat', 'skylight', 'webhook.dlq', 'evt-2', T0);
    assert.deepEqual(await round(T0 + 1000, { sources }), []);
    await notice('sly', 'sly', 'webhook.dlq', 'evt-3', T0 + 2000);
    assert.deepEqual(await round(T0 + 3000, { sources }), ['opened:provider_notice:sly']);
    const a = (await alertRows()).find((x) => x.rule === 'provider_notice')!;
    assert.match(
      String(a.summary),
      /1 provider notice\(s\) in 60 min; latest: the provider dead-lettered a delivery \(webhook\.dlq\)/,
    );
    const risk = (a.detail as { at_risk: Array<{ delivery_id: string; said: string }> }).at_risk;
    assert.equal(risk[0]!.delivery_id, 'evt-3');
    assert.match(risk[0]!.said, /dlv_lost_1/);
    assert.deepEqual(await outbox(), ['opened']);
    assert.deepEqual(await round(T0 + 61 * MIN, { sources }), []);
    assert.deepEqual(await round(T0 + 64 * MIN, { sources }), ['resolved:provider_notice:sly']);
  });

  test('malformed: signed deliveries we could not read open one incident per source, not a message each', async () => {
    await only('malformed', { threshold: 1, windowMinutes: 15 });
    const at = (ms: number) => new Date(T0 + ms).toISOString();
    for (const [i, ms] of [0, 20_000, 40_000].entries())
      await tdb.db.execute(sql`
        insert into receipts (source, provider, delivery_id, outcome, reason, http_status, ack_ms, received_at, headers, body_bytes)
        values ('skylightchat', 'skylight', ${`bad-${i}`}, 'malformed', 'event: is required', 200, 1, ${at(ms)}::timestamptz, '{}'::jsonb, 10)`);
    await writeRollups(tdb.db, [cell(T0, 'malformed', 3)]);
    assert.deepEqual(await round(T0 + 50_000), ['opened:malformed:skylightchat']);
    const [a] = await alertRows();
    assert.match(
      String(a!.summary),
      /3 signed deliveries we could not read in 15 min; latest: event: is required/,
    );
    const detail = a!.detail as {
      at_risk: Array<{ delivery_id: string }>;
      deadline_at: string;
      lost: boolean;
    };
    assert.deepEqual(
      detail.at_risk.map((r) => r.delivery_id),
      ['bad-2', 'bad-1', 'bad-0'],
    );
    // Their raw bodies are all there is: kept with the receipts for RETENTION_DAYS (30 here).
    assert.equal(detail.deadline_at, new Date(T0 + 30 * 86_400_000).toISOString());
    await writeRollups(tdb.db, [cell(T0 + MIN, 'malformed', 40)]);
    assert.deepEqual(await round(T0 + 2 * MIN), [], 'forty more are the same incident');
    assert.deepEqual(await round(T0 + 17 * MIN), []);
    assert.deepEqual(await round(T0 + 20 * MIN), ['resolved:malformed:skylightchat']);
    assert.deepEqual(await outbox(), ['opened', 'resolved']);
  });

  test('storage: a database past the size limit opens; raising the limit resolves', async () => {
    await only('storage', { threshold: 0.000001 });
    assert.deepEqual(await round(T0), ['opened:storage:database']);
    await upsertRule(tdb.db, 'storage', { enabled: true, threshold: 10_000, windowMinutes: 0 }, ADMIN);
    await round(T0 + MIN);
    assert.deepEqual(await round(T0 + 4 * MIN), ['resolved:storage:database']);
  });

  test('a disabled rule resolves its open incidents at once', async () => {
    await only('storage', { threshold: 0.000001 });
    assert.deepEqual(await round(T0), ['opened:storage:database']);
    await upsertRule(tdb.db, 'storage', { enabled: false, threshold: 0.000001, windowMinutes: 0 }, ADMIN);
    assert.deepEqual(await round(T0 + 1000), ['resolved:storage:database']);
  });
});

describe('watchdog over the provider management API (the sandbox)', () => {
  const management = async () => skylight.management!({ url: sandbox.apiUrl, key: sandbox.apiKey });

  /** One attempt in a webhook's log at the sandbox, finished as `status` (pending: due in 9 min). */
  async function logAttempt(
    webhookId: number,
    deliveryId: string,
    attemptNumber: number,
    status: 'failed' | 'delivered' | 'pending',
    contact: string,
  ) {
    const store = sandbox.core.store;
    const d = await store.addDelivery({
      webhookId,
      eventType: 'contact.created',
      deliveryId,
      attemptNumber,
      payload: JSON.stringify({ event: 'contact.created', data: { contact: { id: contact } } }),
      nextAttemptAt: status === 'pending' ? new Date(Date.now() + 9 * MIN) : null,
    });
    if (status === 'pending') return;
    await store.finishDelivery(d.id, {
      status,
      responseStatusCode: status === 'delivered' ? 200 : 503,
      responseBody: '',
    });
  }

  test('webhook_disabled: toggled off on the provider side opens; back on resolves', async () => {
    await only('webhook_disabled');
    await sandbox.core.updateWebhook(hookId, { isActive: true, url: `${APP}/api/webhooks/skylightchat` });
    assert.deepEqual(await round(T0, { management }), [], 'active and pointed at us: nothing');
    // Switched off in the provider's own dashboard (its API), not through ours.
    await sandbox.core.updateWebhook(hookId, { isActive: false });
    assert.deepEqual(await round(T0 + 30_000, { management }), ['opened:webhook_disabled:skylightchat']);
    const [a] = await alertRows();
    assert.match(String(a!.summary), new RegExp(`webhook ${hookId} is disabled`));
    assert.equal((a!.detail as { lost: boolean }).lost, true);
    await sandbox.core.updateWebhook(hookId, { isActive: true });
    assert.deepEqual(await round(T0 + 60_000, { management }), []);
    assert.deepEqual(await round(T0 + 4 * MIN, { management }), ['resolved:webhook_disabled:skylightchat']);
  });

  test('webhook_disabled: a webhook re-pointed elsewhere counts too', async () => {
    await only('webhook_disabled');
    await sandbox.core.updateWebhook(hookId, { isActive: true, url: `${APP}/api/webhooks/skylightchat` });
    await round(T0, { management });
    await sandbox.core.updateWebhook(hookId, { url: 'https://elsewhere.test/hooks?token=abc' });
    assert.deepEqual(await round(T0 + 30_000, { management }), ['opened:webhook_disabled:skylightchat']);
    const [a] = await alertRows();
    assert.match(String(a!.summary), /now points at elsewhere\.test\/hooks/);
    assert.doesNotMatch(String(a!.summary), /token=abc/, 'the query (maybe a token) is not shown');
    await sandbox.core.updateWebhook(hookId, { url: `${APP}/api/webhooks/skylightchat` });
  });

  test('a webhook re-pointed elsewhere while another active one points here is forgotten: its failures are not ours', async () => {
    await only('provider_failed', { threshold: 1, windowMinutes: 60 });
    await sandbox.core.updateWebhook(hookId, { isActive: true, url: `${APP}/api/webhooks/skylightchat` });
    const other = (
      await sandbox.core.createWebhook({ name: 'moved away', url: `${APP}/api/webhooks/skylightchat` })
    ).id;
    try {
      assert.deepEqual(await round(T0, { management }), []);
      await sandbox.core.updateWebhook(other, { url: 'https://elsewhere.test/hooks' });
      // The other receiver refuses it: that receiver's failure, not a delivery of ours at risk.
      const d = await sandbox.core.store.addDelivery({
        webhookId: other,
        eventType: 'contact.created',
        deliveryId: 'elsewhere-1',
        attemptNumber: 4,
        payload: '{}',
        nextAttemptAt: null,
      });
      await sandbox.core.store.finishDelivery(d.id, {
        status: 'failed',
        responseStatusCode: 500,
        responseBody: '',
      });
      assert.deepEqual(await round(Date.now(), { management }), []);
      assert.deepEqual(await readMemory(tdb.db, 'alerts:watched_webhooks', {}), { skylightchat: [hookId] });
    } finally {
      await sandbox.core.deleteWebhook(other);
    }
  });

  test('provider_failed: failed deliveries we never received open, with their retry deadline or loss', async () => {
    await only('provider_failed', { threshold: 1, windowMinutes: 60 });
    await sandbox.core.updateWebhook(hookId, { isActive: true, url: `${APP}/api/webhooks/skylightchat` });
    const store = sandbox.core.store;
    const now = Date.now();
    const first = await store.addDelivery({
      webhookId: hookId,
      eventType: 'contact.created',
      deliveryId: 'lost-1',
      attemptNumber: 4,
      payload: '{}',
      nextAttemptAt: null,
    });
    await store.finishDelivery(first.id, {
      status: 'failed',
      responseStatusCode: 400,
      responseBody: 'bad signature',
    });
    const second = await store.addDelivery({
      webhookId: hookId,
      eventType: 'message.received',
      deliveryId: 'retrying-1',
      attemptNumber: 2,
      payload: '{}',
      nextAttemptAt: null,
    });
    await store.finishDelivery(second.id, {
      status: 'failed',
      responseStatusCode: null,
      responseBody: 'timeout',
    });
    assert.deepEqual(await round(now, { management }), ['opened:provider_failed:skylightchat']);
    const [a] = await alertRows();
    const detail = a!.detail as {
      at_risk: Array<{ delivery_id: string; lost: boolean; deadline_at: string | null }>;
    };
    const lost = detail.at_risk.find((r) => r.delivery_id === 'lost-1')!;
    const retrying = detail.at_risk.find((r) => r.delivery_id === 'retrying-1')!;
    assert.equal(lost.lost, true);
    assert.equal(retrying.lost, false);
    // Attempt 2 failed: retries 2 and 3 remain (10 + 30 min).
    const left = new Date(retrying.deadline_at!).getTime() - now;
    assert.ok(left > 39 * MIN && left < 41 * MIN, `40 min left, got ${left / MIN}`);
    // A disabled webhook retries nothing: its failures are all final.
    await sandbox.core.updateWebhook(hookId, { isActive: false });
    await upsertRule(tdb.db, 'webhook_disabled', { enabled: false, threshold: 0, windowMinutes: 0 }, ADMIN);
    await round(now + MIN, { management });
    const [after] = await alertRows();
    const risk = (after!.detail as { at_risk: Array<{ delivery_id: string; lost: boolean }> }).at_risk;
    assert.ok(risk.every((r) => r.lost));
    await sandbox.core.updateWebhook(hookId, { isActive: true });
    // An hour later the window holds no failure: it resolves after the clear period.
    await round(now + 61 * MIN, { management });
    assert.deepEqual(await round(now + 64 * MIN, { management }), ['resolved:provider_failed:skylightchat']);
  });

  test('provider_failed: a retry with a new id that got through clears its delivery; two webhooks make one incident', async () => {
    await only('provider_failed', { threshold: 1, windowMinutes: 60 });
    await sandbox.core.updateWebhook(hookId, { isActive: true, url: `${APP}/api/webhooks/skylightchat` });
    const second = (
      await sandbox.core.createWebhook({ name: 'ours too', url: `${APP}/api/webhooks/skylightchat` })
    ).id;
    const store = sandbox.core.store;
    const attempt = async (
      webhookId: number,
      deliveryId: string,
      attemptNumber: number,
      payload: unknown,
      status: 'failed' | 'delivered',
    ) => {
      const d = await store.addDelivery({
        webhookId,
        eventType: 'contact.created',
        deliveryId,
        attemptNumber,
        payload: JSON.stringify(payload),
        nextAttemptAt: null,
      });
      await store.finishDelivery(d.id, {
        status,
        responseStatusCode: status === 'delivered' ? 200 : 503,
        responseBody: '',
      });
    };
    const body = (id: string) => ({ event: 'contact.created', data: { contact: { id, name: id } } });
    try {
      // Attempt 1 (id x-1) failed, attempt 2 of the same event (new id x-2, same body) was delivered.
      await attempt(hookId, 'x-1', 1, { ...body('x'), delivery_id: 'x-1' }, 'failed');
      await attempt(hookId, 'x-2', 2, { ...body('x'), delivery_id: 'x-2' }, 'delivered');
      // A failure on each webhook: one still retried, one given up.
      await attempt(second, 'y-1', 1, body('y'), 'failed');
      await attempt(hookId, 'z-1', 4, body('z'), 'failed');
      const now = Date.now();
      assert.deepEqual(await round(now, { management }), ['opened:provider_failed:skylightchat']);
      const alerts = (await alertRows()).filter((a) => a.rule === 'provider_failed');
      assert.equal(alerts.length, 1, 'one incident for the source');
      const detail = alerts[0]!.detail as {
        evidence: { webhook_ids: number[] };
        at_risk: Array<{
          delivery_id: string;
          lost: boolean;
          deadline_at: string | null;
          webhook_id: number;
        }>;
      };
      assert.deepEqual([...detail.evidence.webhook_ids].sort(), [hookId, second].sort());
      const byId = new Map(detail.at_risk.map((r) => [r.delivery_id, r]));
      assert.ok(!byId.has('x-1') && !byId.has('x-2'), 'delivered on its retry: not at risk');
      assert.equal(byId.get('y-1')?.webhook_id, second);
      assert.equal(byId.get('y-1')?.lost, false);
      // Attempt 1 failed: 10 + 30 min of retries and the 30-s answer timeout remain after the 2-min one.
      const left = new Date(byId.get('y-1')!.deadline_at!).getTime() - now;
      assert.ok(left > 41.5 * MIN && left < 43 * MIN, `42.5 min left, got ${left / MIN}`);
      assert.equal(byId.get('z-1')?.lost, true);
    } finally {
      await sandbox.core.deleteWebhook(second);
    }
  });

  test('provider_failed on a busy webhook: a give-up and a retry behind 400 newer deliveries are still seen, a recovered one is not', async () => {
    await only('provider_failed', { threshold: 1, windowMinutes: 60 });
    const busy = (await sandbox.core.createWebhook({ name: 'busy', url: `${APP}/api/webhooks/busy` })).id;
    const attempt = (
      deliveryId: string,
      n: number,
      status: 'failed' | 'delivered' | 'pending',
      contact = deliveryId,
    ) => logAttempt(busy, deliveryId, n, status, contact);
    const sources = async () => [{ slug: 'busy', provider: 'skylight' as const }];
    try {
      await attempt('gone-4', 4, 'failed'); // its fourth attempt failed: given up
      await attempt('retry-1', 1, 'failed', 'retry');
      await attempt('retry-2', 2, 'pending', 'retry'); // its second attempt is due
      await attempt('ok-1', 1, 'failed', 'ok');
      await attempt('ok-2', 2, 'delivered', 'ok'); // delivered on its retry: nothing at risk
      // 450 delivered since: the four newest pages (100 each) end before the failures.
      for (let i = 0; i < 450; i++) await attempt(`fine-${i}`, 1, 'delivered');
      assert.deepEqual(await round(Date.now(), { management, sources }), ['opened:provider_failed:busy']);
      const [a] = (await alertRows()).filter((r) => r.rule === 'provider_failed');
      const detail = a!.detail as {
        evidence: { log_read_in_full: boolean };
        at_risk: Array<{ delivery_id: string; lost: boolean; deadline_at: string | null }>;
      };
      const byId = new Map(detail.at_risk.map((r) => [r.delivery_id, r]));
      assert.deepEqual([...byId.keys()].sort(), ['gone-4', 'retry-2']);
      assert.equal(byId.get('gone-4')!.lost, true);
      assert.equal(byId.get('retry-2')!.lost, false);
      assert.ok(byId.get('retry-2')!.deadline_at, 'the retry still due has its deadline');
      assert.equal(detail.evidence.log_read_in_full, true);
      assert.match(String(a!.summary), /has 2 deliveries .*; 1 given up\)/);
      // More failures than one round reads (4 pages of 100): the counts are told as a floor.
      for (let i = 0; i < 450; i++) await attempt(`down-${i}`, 4, 'failed');
      await round(Date.now(), { management, sources });
      const [b] = (await alertRows()).filter((r) => r.rule === 'provider_failed');
      assert.equal(
        (b!.detail as { evidence: { log_read_in_full: boolean } }).evidence.log_read_in_full,
        false,
      );
      assert.match(String(b!.summary), /has at least \d+ deliveries .*; at least \d+ given up\)/);
    } finally {
      await sandbox.core.deleteWebhook(busy);
    }
  });

  test('provider_failed on a busy webhook switched off: past the newest pages a first attempt whose retry got through is not taken for a final one', async () => {
    await only('provider_failed', { threshold: 1, windowMinutes: 60 });
    const busy = (await sandbox.core.createWebhook({ name: 'busy off', url: `${APP}/api/webhooks/busyoff` }))
      .id;
    const attempt = (deliveryId: string, n: number, status: 'failed' | 'delivered', contact: string) =>
      logAttempt(busy, deliveryId, n, status, contact);
    const sources = async () => [{ slug: 'busyoff', provider: 'skylight' as const }];
    try {
      await attempt('r-1', 1, 'failed', 'r');
      await attempt('r-2', 2, 'delivered', 'r'); // the retry, under a new id, got through
      for (let i = 0; i < 450; i++) await attempt(`fine-${i}`, 1, 'delivered', `fine-${i}`);
      await sandbox.core.updateWebhook(busy, { isActive: false });
      assert.deepEqual(await round(Date.now(), { management, sources }), []);
    } finally {
      await sandbox.core.deleteWebhook(busy);
    }
  });

  test('rule_blind: a revoked API key opens it after its window, leaves the webhook incident as it was, and resolves once the API answers', async () => {
    const { RULE_DEFINITIONS } = await import('@/lib/alerts/rules');
    for (const r of Object.keys(RULE_DEFINITIONS) as AlertRule[]) {
      const d = RULE_DEFINITIONS[r];
      const on = r === 'webhook_disabled' || r === 'rule_blind';
      await upsertRule(
        tdb.db,
        r,
        { enabled: on, threshold: d.threshold, windowMinutes: d.windowMinutes },
        ADMIN,
      );
    }
    await sandbox.core.updateWebhook(hookId, { isActive: false, url: `${APP}/api/webhooks/skylightchat` });
    try {
      assert.deepEqual(await round(T0, { management }), ['opened:webhook_disabled:skylightchat']);
      // The key is revoked: every list call answers 401.
      const revoked = async () => skylight.management!({ url: sandbox.apiUrl, key: 'revoked-key' });
      assert.deepEqual(await round(T0 + MIN, { management: revoked }), [], 'blind, but not for long yet');
      assert.deepEqual(await round(T0 + 4 * MIN, { management: revoked }), []);
      assert.deepEqual(await round(T0 + 6 * MIN, { management: revoked }), [
        'opened:rule_blind:webhook_disabled',
      ]);
      const blind = (await alertRows()).find((a) => a.rule === 'rule_blind')!;
      assert.match(
        String(blind.summary),
        /"Webhook disabled" has not been able to look for 5 min \(SkyLight Chat webhook list: SkyLight rejected the API key \(401\)/,
      );
      assert.doesNotMatch(JSON.stringify(blind), /revoked-key/, 'the key never reaches the alert');
      assert.equal((await alertRows()).find((a) => a.rule === 'webhook_disabled')!.state, 'open');
      // A client that cannot even be made is as blind.
      const broken = async () => Promise.reject(new Error('client module failed to load'));
      assert.deepEqual(await round(T0 + 7 * MIN, { management: broken }), []);
      // The API answers again: rule_blind clears (after the resolve delay), the webhook rule looks.
      assert.deepEqual(await round(T0 + 8 * MIN, { management }), []);
      assert.deepEqual(await round(T0 + 11 * MIN, { management }), ['resolved:rule_blind:webhook_disabled']);
      // No management API configured at all: nothing to watch, never "blind".
      await round(T0 + 12 * MIN, { management: async () => null });
      assert.deepEqual(await round(T0 + 30 * MIN, { management: async () => null }), []);
      assert.deepEqual(await outbox(), ['opened', 'opened', 'resolved']);
    } finally {
      await sandbox.core.updateWebhook(hookId, { isActive: true });
    }
  });

  test('rule_blind: blindness is tracked while the rule is off, so switching it on starts from the truth', async () => {
    const { RULE_DEFINITIONS } = await import('@/lib/alerts/rules');
    const set = async (blindOn: boolean) => {
      for (const r of Object.keys(RULE_DEFINITIONS) as AlertRule[]) {
        const d = RULE_DEFINITIONS[r];
        const on = r === 'webhook_disabled' || (r === 'rule_blind' && blindOn);
        await upsertRule(
          tdb.db,
          r,
          { enabled: on, threshold: d.threshold, windowMinutes: d.windowMinutes },
          ADMIN,
        );
      }
    };
    const revoked = async () => skylight.management!({ url: sandbox.apiUrl, key: 'revoked-key' });
    await sandbox.core.updateWebhook(hookId, { isActive: true, url: `${APP}/api/webhooks/skylightchat` });
    await set(true);
    assert.deepEqual(await round(T0, { management: revoked }), []);
    await set(false);
    // The API answers again while rule_blind is off; then it fails again and the rule is switched on.
    assert.deepEqual(await round(T0 + MIN, { management }), []);
    await set(true);
    assert.deepEqual(await round(T0 + 30 * MIN, { management: revoked }), [], 'blind for 0 min, not 30');
    assert.deepEqual(await round(T0 + 36 * MIN, { management: revoked }), [
      'opened:rule_blind:webhook_disabled',
    ]);
  });

  test('a 429 from the provider leaves incidents as they are (no false resolve)', async () => {
    await only('webhook_disabled');
    await sandbox.core.updateWebhook(hookId, { isActive: true, url: `${APP}/api/webhooks/skylightchat` });
    await round(T0, { management });
    await sandbox.core.updateWebhook(hookId, { isActive: false });
    assert.deepEqual(await round(T0 + 30_000, { management }), ['opened:webhook_disabled:skylightchat']);
    const limited = await startSandbox({ rateLimit: { limit: 0, windowMs: 60_000 } });
    try {
      const throttled = async () => skylight.management!({ url: limited.apiUrl, key: limited.apiKey });
      assert.deepEqual(await round(T0 + 10 * MIN, { management: throttled }), []);
      assert.equal((await alertRows())[0]!.state, 'open');
    } finally {
      await limited.stop();
      await sandbox.core.updateWebhook(hookId, { isActive: true });
    }
  });
});

/**
 * An alert channel on 127.0.0.1: `answer` gives each post's status (and headers, and how long the
 * answer takes); the posts it answered 200 are kept in order.
 */
async function channelSink(
  answer: () => { status: number; headers?: Record<string, string>; delayMs?: number } = () => ({
    status: 200,
  }),
) {
  const posted: Array<{ text: string; transition: string }> = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const a = answer();
    if (a.status === 200) posted.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    setTimeout(() => res.writeHead(a.status, a.headers).end(), a.delayMs ?? 0);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    posted,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    close: () => server.close(),
  };
}

describe('channel, acknowledgement and replicas', () => {
  test('a dead channel never blocks evaluation; its messages arrive once it recovers', async () => {
    let down = true;
    const sink = await channelSink(() => ({ status: down ? 503 : 200 }));
    const { posted, url } = sink;
    try {
      await only('storage', { threshold: 0.000001 });
      assert.deepEqual(await round(T0), ['opened:storage:database']);
      await deliverNotifications(tdb.db, url);
      assert.equal(posted.length, 0);
      const failing = await tdb.db.execute(
        sql`select attempts, last_error, delivered_at from alert_notifications`,
      );
      const row = ((failing as unknown as { rows?: unknown[] }).rows ??
        (failing as unknown as unknown[]))[0] as {
        attempts: number;
        last_error: string;
        delivered_at: unknown;
      };
      assert.equal(row.attempts, 1);
      assert.match(row.last_error, /503/);
      assert.equal(row.delivered_at, null);
      // Evaluation goes on while the channel is down.
      await upsertRule(tdb.db, 'storage', { enabled: false, threshold: 1, windowMinutes: 0 }, ADMIN);
      assert.deepEqual(await round(T0 + 1000), ['resolved:storage:database']);
      down = false;
      await tdb.db.execute(sql`update alert_notifications set next_attempt_at = now()`);
      await deliverNotifications(tdb.db, url);
      assert.deepEqual(
        posted.map((p) => p.transition),
        ['opened', 'resolved'],
      );
      assert.match(posted[0]!.text, /\[critical\] Storage \(database\) opened/);
    } finally {
      sink.close();
    }
  });

  test('a condition that comes and goes is one incident and two messages: the resolution is told once it holds', async () => {
    const sink = await channelSink();
    try {
      // Real time: the held resolution is compared with the database's clock.
      const now = Date.now();
      await only('storage', { threshold: 0.000001 });
      const set = (enabled: boolean) =>
        upsertRule(tdb.db, 'storage', { enabled, threshold: 0.000001, windowMinutes: 0 }, ADMIN);
      assert.deepEqual(await round(now), ['opened:storage:database']);
      await set(false);
      assert.deepEqual(await round(now + 1000), ['resolved:storage:database']);
      await deliverNotifications(tdb.db, sink.url);
      assert.deepEqual(
        sink.posted.map((p) => p.transition),
        ['opened'],
        'the resolution waits',
      );
      assert.equal((await alertRows())[0]!.state, 'resolved', 'the page shows it at once');
      // Back within the reopen window: the same incident, and the channel hears nothing new.
      await set(true);
      assert.deepEqual(await round(now + 2000), ['reopened:storage:database']);
      assert.deepEqual(await outbox(), ['opened']);
      assert.equal((await alertRows())[0]!.state, 'open');
      // Acknowledged, then gone and back within the window: still acknowledged, by the same person.
      const id = Number((await alertRows())[0]!.id);
      await acknowledgeAlert(tdb.db, id, ADMIN, (x) => transitionText('acknowledged', x));
      await set(false);
      assert.deepEqual(await round(now + 2500), ['resolved:storage:database']);
      await set(true);
      assert.deepEqual(await round(now + 2600), ['reopened:storage:database']);
      const [kept] = await rows<{ state: string; acknowledged_by: string | null }>(
        sql`select state, acknowledged_by from alerts where id = ${id}`,
      );
      assert.deepEqual({ ...kept }, { state: 'acknowledged', acknowledged_by: ADMIN.actor });
      assert.deepEqual(await outbox(), ['opened', 'acknowledged']);
      // Clear again, and this time it holds (the window passes): the channel hears it once.
      await set(false);
      assert.deepEqual(await round(now + 3000), ['resolved:storage:database']);
      await tdb.db.execute(
        sql`update alert_notifications set next_attempt_at = now() where delivered_at is null`,
      );
      await deliverNotifications(tdb.db, sink.url);
      assert.deepEqual(
        sink.posted.map((p) => p.transition),
        ['opened', 'acknowledged', 'resolved'],
      );
      assert.equal((await alertRows()).length, 1);
      // A held resolution being posted (claimed: its next attempt moved) is not withdrawn by a reopen:
      // the channel hears "resolved", then "reopened".
      // (After a resolution the channel heard, a reopen is told too.)
      await set(true);
      assert.deepEqual(await round(now + 4000), ['reopened:storage:database']);
      await set(false);
      assert.deepEqual(await round(now + 5000), ['resolved:storage:database']);
      await tdb.db.execute(sql`update alert_notifications set next_attempt_at = now() + interval '1 minute'
        where delivered_at is null and transition = 'resolved'`);
      await set(true);
      assert.deepEqual(await round(now + 6000), ['reopened:storage:database']);
      assert.deepEqual(await outbox(), [
        'opened',
        'acknowledged',
        'resolved',
        'reopened',
        'resolved',
        'reopened',
      ]);
    } finally {
      sink.close();
    }
  });

  test('replicas posting side by side post each message once', async () => {
    // Slow enough that the second replica's claim comes while the first is still posting.
    const sink = await channelSink(() => ({ status: 200, delayMs: 30 }));
    const { url } = sink;
    try {
      await only('storage', { threshold: 0.000001 });
      assert.deepEqual(await round(T0), ['opened:storage:database']);
      await tdb.db.execute(sql`insert into alert_notifications (alert_id, transition, text, created_at)
        select alert_id, transition, text || ' #' || g, now() from alert_notifications, generate_series(1, 7) g`);
      await Promise.all([deliverNotifications(tdb.db, url, 5), deliverNotifications(tdb.db, url, 5)]);
      await deliverNotifications(tdb.db, url, 5);
      assert.equal(sink.posted.length, 8);
      assert.equal(new Set(sink.posted.map((p) => p.text)).size, 8, 'no message twice');
      const [left] = await rows<{ n: number }>(
        sql`select count(*)::int as n from alert_notifications where delivered_at is null`,
      );
      assert.equal(left!.n, 0);
    } finally {
      sink.close();
    }
  });

  test('a 429 is a pause, not a refusal: the message waits for Retry-After, the rest with it', async () => {
    let limited = true;
    const sink = await channelSink(() =>
      limited ? { status: 429, headers: { 'retry-after': '30' } } : { status: 200 },
    );
    const { url } = sink;
    try {
      await only('storage', { threshold: 0.000001 });
      assert.deepEqual(await round(T0), ['opened:storage:database']);
      await upsertRule(tdb.db, 'storage', { enabled: false, threshold: 1, windowMinutes: 0 }, ADMIN);
      assert.deepEqual(await round(T0 + 1000), ['resolved:storage:database']);
      await deliverNotifications(tdb.db, url);
      const waiting = await rows<{
        attempts: number;
        abandoned: boolean;
        wait_s: number;
        last_error: string | null;
      }>(
        sql`select attempts, abandoned_at is not null as abandoned, last_error,
                   extract(epoch from next_attempt_at - now())::float as wait_s
              from alert_notifications order by id`,
      );
      assert.deepEqual(
        waiting.map((w) => [w.attempts, w.abandoned]),
        [
          [1, false],
          [0, false],
        ],
        'the first was tried once and is kept; the second was not tried',
      );
      for (const w of waiting)
        assert.ok(w.wait_s > 25 && w.wait_s <= 30, `waits the 30 s asked: ${w.wait_s}`);
      assert.match(waiting[0]!.last_error ?? '', /429/);
      limited = false;
      await tdb.db.execute(sql`update alert_notifications set next_attempt_at = now()`);
      await deliverNotifications(tdb.db, url);
      assert.deepEqual(
        sink.posted.map((p) => p.transition),
        ['opened', 'resolved'],
      );
    } finally {
      sink.close();
    }
  });

  test('an evaluation that stops is told to the channel directly, once per 15 min across replicas', async () => {
    let down = false;
    const sink = await channelSink(() => ({ status: down ? 503 : 200 }));
    const { posted, url } = sink;
    const INTERVAL = 30_000;
    try {
      await only('storage');
      await round(T0);
      const fresh = await evaluationState(tdb.db, INTERVAL);
      assert.ok(fresh.ageS !== null && fresh.ageS < 5 && !fresh.stale, 'a finished round is recorded');
      await watchEvaluation(tdb.db, url, INTERVAL);
      assert.equal(posted.length, 0);

      // The last round finished 10 minutes ago (the evaluator has been failing since).
      await tdb.db.execute(sql`update settings set value = (now() - interval '10 minutes')::text
        where key = 'alerts:evaluated_at'`);
      assert.equal((await evaluationState(tdb.db, INTERVAL)).stale, true);
      down = true;
      await assert.rejects(watchEvaluation(tdb.db, url, INTERVAL), /503/);
      down = false;
      await Promise.all([watchEvaluation(tdb.db, url, INTERVAL), watchEvaluation(tdb.db, url, INTERVAL)]);
      await watchEvaluation(tdb.db, url, INTERVAL);
      assert.equal(posted.length, 1, 'the failed post was retried, then sent once');
      assert.equal(posted[0]!.transition, 'evaluation_stale');
      assert.match(posted[0]!.text, /\[critical\] Alert evaluation has not finished a round for 10 min/);

      // It runs again: not stale, nothing more is sent.
      await round(T0 + 60_000);
      assert.equal((await evaluationState(tdb.db, INTERVAL)).stale, false);
      await watchEvaluation(tdb.db, url, INTERVAL);
      assert.equal(posted.length, 1);
    } finally {
      sink.close();
    }
  });

  test('retention prunes incidents resolved before it and the sent messages of old open ones', async () => {
    await tdb.db.execute(sql`insert into alerts (rule, subject, state, severity, summary, detail, opened_at, last_seen_at, resolved_at)
      values ('storage', 'old', 'resolved', 'critical', 'old', '{}', now() - interval '40 days', now() - interval '40 days', now() - interval '39 days'),
             ('storage', 'recent', 'resolved', 'critical', 'recent', '{}', now() - interval '2 days', now() - interval '2 days', now() - interval '1 day'),
             ('backlog', 'still-open', 'open', 'warning', 'open', '{}', now() - interval '40 days', now(), null)`);
    await tdb.db.execute(sql`insert into alert_notifications (alert_id, transition, text, created_at, delivered_at)
      select id, 'opened', subject || ' sent', opened_at, opened_at from alerts
      union all select id, 'opened', subject || ' pending', opened_at, null from alerts where subject = 'still-open'`);
    await pruneOld(tdb.db, 30);
    assert.deepEqual(
      (await alertRows()).map((a) => a.subject),
      ['recent', 'still-open'],
    );
    const left = await rows<{ text: string }>(sql`select text from alert_notifications order by text`);
    assert.deepEqual(
      left.map((r) => r.text),
      ['recent sent', 'still-open pending'],
      'an undelivered message is kept whatever its age',
    );
  });

  test('acknowledge: open → acknowledged, once; the channel hears of it', async () => {
    await only('storage', { threshold: 0.000001 });
    await round(T0);
    const [a] = await alertRows();
    const acked = await acknowledgeAlert(tdb.db, Number(a!.id), ADMIN, (x) =>
      transitionText('acknowledged', x),
    );
    assert.equal(acked.state, 'acknowledged');
    assert.equal(acked.acknowledged_by, ADMIN.actor);
    await assert.rejects(
      acknowledgeAlert(tdb.db, Number(a!.id), ADMIN, (x) => transitionText('acknowledged', x)),
      /not open/,
    );
    assert.deepEqual(await outbox(), ['opened', 'acknowledged']);
    // Still observed: the acknowledged incident is refreshed, not reopened.
    assert.deepEqual(await round(T0 + MIN), []);
  });

  test('two replicas evaluating at once make one incident: the lease, and the unique index behind it', async () => {
    await only('storage', { threshold: 0.000001 });
    const second = tdb.url ? await openDb({ url: tdb.url, max: 4 }) : null;
    try {
      const other = second?.db ?? tdb.db;
      const [x, y] = await Promise.all([
        evaluateAlerts(deps(new Date(T0))),
        evaluateAlerts({ ...deps(new Date(T0)), db: other, holder: 'replica-b' }),
      ]);
      assert.equal([x, y].filter((c) => c === null).length, 1, 'exactly one replica holds the lease');
      // The lease expires (a crashed holder): the other takes over, and still finds the same incident.
      await tdb.db.execute(sql`update job_leases set expires_at = now() - interval '1 second'`);
      const z = await evaluateAlerts({ ...deps(new Date(T0 + 1000)), db: other, holder: 'replica-b' });
      assert.deepEqual(z, []);
      const rows = await alertRows();
      assert.equal(rows.length, 1);
      assert.deepEqual(await outbox(), ['opened']);
    } finally {
      await second?.close();
    }
  });

  test('a round that outlives its lease (another replica took over meanwhile) applies nothing', async () => {
    await only('storage', { threshold: 0.000001 });
    // The round is slow (a provider answering in 30 s per call): its lease runs out, replica-b takes it.
    const slowSources = async () => {
      await tdb.db.execute(sql`update job_leases set expires_at = now() - interval '1 second'`);
      assert.ok(await acquireLease(tdb.db, 'alerts', 'replica-b', 60_000));
      return [{ slug: 'skylightchat', provider: 'skylight' as const }];
    };
    assert.equal(await evaluateAlerts(deps(new Date(T0), { sources: slowSources })), null);
    assert.equal((await alertRows()).length, 0);
    assert.deepEqual(await outbox(), []);
    // replica-b's own round applies.
    const b = await evaluateAlerts({ ...deps(new Date(T0 + 1000)), holder: 'replica-b' });
    assert.deepEqual(
      b?.map((c) => c.transition),
      ['opened'],
    );
  });
});

describe('dead letters that expire', () => {
  test('sorted receipts-expiring-first and filtered to those pruned within N days', async () => {
    const day = 86_400_000;
    const now = Date.now();
    for (const [id, ageDays] of [
      ['old', 28],
      ['mid', 10],
      ['new', 1],
    ] as const) {
      await tdb.db.execute(sql`insert into events (source, provider, delivery_id, event_type, payload, status, dead_at, created_at)
        values ('skylightchat', 'skylight', ${id}, 'contact.created', '{}', 'dead', now(), ${new Date(now - ageDays * day).toISOString()})`);
    }
    const expiring = await listDeadLetters(tdb.db, {}, { limit: 2, sort: 'expiring' });
    assert.deepEqual(
      expiring.rows.map((r) => r.delivery_id),
      ['old', 'mid'],
    );
    const next = await listDeadLetters(
      tdb.db,
      {},
      { limit: 2, sort: 'expiring', cursor: expiring.nextCursor! },
    );
    assert.deepEqual(
      next.rows.map((r) => r.delivery_id),
      ['new'],
    );
    // RETENTION_DAYS 30: within 5 days means created more than 25 days ago.
    const soon = await listDeadLetters(
      tdb.db,
      { created_before: createdBeforeFor(5, 30, now) },
      { limit: 10 },
    );
    assert.deepEqual(
      soon.rows.map((r) => r.delivery_id),
      ['old'],
    );
    const left = keptUntil(soon.rows[0]!.created_at, 30).getTime() - now;
    assert.ok(Math.abs(left - 2 * day) < 5000, 'the 28-day-old dead letter keeps its receipts 2 more days');
  });
});
