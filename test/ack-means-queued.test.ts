import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { rowsOf } from '@/db/client';
import { writeRollups } from '@/db/queries/rollups';
import { attempts, events, latencyRollups, receipts } from '@/db/schema';
import { enqueueDelivery } from '@/lib/deliveries/enqueue';
import { AppError } from '@/lib/errors';
import { MAX_CELLS, RollupBuffer } from '@/lib/metrics/rollup-buffer';
import { sign } from '@/lib/providers/skylight/signature';
import { classify, describeError } from '@/lib/worker/errors';
import { openTestDb, type TestDb } from './helpers/db';
import { post, signedDelivery, uniqueId } from './helpers/deliveries';
import { type ReceiverServer, startReceiverServer } from './helpers/receiver-server';

// Issue 13: an ack (200) means the event is queued, whatever state the database is in; refused
// (unauthenticated) requests are counted under fixed keys and stored within bounds; replays of old
// signed deliveries are refused. Each case asserts the answer and what the database holds.

const SECRET = 'whsec_ack_test_0123456789abcdef0123456789abcdef0123456789abcdef0123';
const onPostgres = !!process.env.TEST_DATABASE_URL;

let db: TestDb;
before(async () => {
  db = await openTestDb();
});
after(() => db.close());

/** 200s that left no inbox row: must be zero in every case. */
async function ackedWithoutEvent(): Promise<number> {
  const [r] = rowsOf<{ n: number }>(
    await db.db.execute(sql`
      select count(*)::int as n from receipts r
       where r.http_status = 200 and r.outcome = 'accepted'
         and not exists (select 1 from events e where e.id = r.event_id)`),
  );
  return r!.n;
}
async function receiptsFor(deliveryId: string) {
  return db.db.select().from(receipts).where(eq(receipts.deliveryId, deliveryId));
}
async function eventFor(deliveryId: string) {
  const [e] = await db.db.select().from(events).where(eq(events.deliveryId, deliveryId));
  return e;
}
async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 15_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('valid JSON that jsonb refuses is still queued and processed', () => {
  let s: ReceiverServer;
  before(async () => {
    s = await startReceiverServer({ secrets: [SECRET], db });
  });
  after(() => s.close());

  const cases: Array<[string, string, (row: Record<string, unknown>) => void]> = [
    [
      'a lone UTF-16 surrogate (an emoji cut in half)',
      '"name":"cut \\ud83d","phone":"+1"',
      (c) => assert.equal(c.name, 'cut \ufffd'),
    ],
    [
      'a NUL escape inside a string',
      '"name":"nul \\u0000 inside","phone":"+1"',
      (c) => assert.equal(c.name, 'nul \ufffd inside'),
    ],
    [
      'a low surrogate before a high one',
      '"name":"\\ude00\\ud83d","phone":"+1"',
      (c) => assert.equal(c.name, '\ufffd\ufffd'),
    ],
    [
      'an escaped backslash before u0000 (plain text, kept as is)',
      '"name":"\\\\u0000","phone":"+1"',
      (c) => assert.equal(c.name, '\\u0000'),
    ],
    [
      'a valid surrogate pair (kept as the emoji)',
      '"name":"smile \\ud83d\\ude00","phone":"+1"',
      (c) => assert.equal(c.name, 'smile 😀'),
    ],
  ];
  for (const [name, fields, check] of cases) {
    test(`${name}: 200 accepted, one event, processed`, async () => {
      const id = uniqueId();
      const deliveryId = `jsonb-${id}`;
      const body = `{"event":"contact.created","delivery_id":"${deliveryId}","timestamp":${Math.floor(Date.now() / 1000)},"data":{"contact":{"id":${id},${fields}}}}`;
      const r = await post(s.url, { body, headers: headersFor(body) });
      assert.equal(r.status, 200);
      const [rec] = await receiptsFor(deliveryId);
      assert.equal(rec?.outcome, 'accepted');
      assert.equal(rec?.body, body, 'the raw body is kept as received');
      const ev = await waitFor('processed', async () => {
        const e = await eventFor(deliveryId);
        return e?.status === 'processed' && e;
      });
      assert.equal(rec?.eventId, ev.id);
      const [c] = rowsOf<Record<string, unknown>>(
        await db.db.execute(sql`select name from contacts where id = ${id}`),
      );
      check(c!);
    });
  }

  test('numbers past 2^53 stay exact in the stored payload and in what the handler writes', async () => {
    const deliveryId = `big-${uniqueId()}`;
    const body = `{"event":"contact.created","delivery_id":"${deliveryId}","timestamp":${Math.floor(Date.now() / 1000)},"data":{"contact":{"id":9007199254740993,"name":"Big","score":123456789012345678901234567890}}}`;
    const r = await post(s.url, { body, headers: headersFor(body) });
    assert.equal(r.status, 200);
    const ev = await waitFor('processed', async () => {
      const e = await eventFor(deliveryId);
      return e?.status === 'processed' && e;
    });
    const [p] = rowsOf<{ id: string; score: string }>(
      await db.db.execute(sql`
        select payload #>> '{data,contact,id}' as id, payload #>> '{data,contact,score}' as score
          from events where id = ${ev.id}`),
    );
    assert.deepEqual(p, { id: '9007199254740993', score: '123456789012345678901234567890' });
    const [c] = rowsOf<{ id: string; score: string }>(
      await db.db.execute(sql`
        select id::text as id, data->>'score' as score from contacts where id = 9007199254740993`),
    );
    assert.deepEqual(c, { id: '9007199254740993', score: '123456789012345678901234567890' });
  });
});

describe('a database fault that is not about the content: 503, never an ack without an event', () => {
  let s: ReceiverServer;
  before(async () => {
    s = await startReceiverServer({ secrets: [SECRET], db, worker: false });
  });
  after(() => s.close());

  for (const [name, errcode] of [
    ['a trigger on the fingerprints table raising an error', 'P0001'],
    ['a side-table failure that looks like a data exception (class 22)', '22023'],
  ] as const) {
    test(`${name}: every delivery answered 503, nothing malformed; accepted once it clears`, async () => {
      await db.db.execute(
        sql.raw(`create or replace function fp_fail() returns trigger language plpgsql as $$
          begin raise exception 'fingerprints are read-only today' using errcode = '${errcode}'; end $$`),
      );
      await db.db.execute(
        sql`create trigger fp_fail before insert on fingerprints for each row execute function fp_fail()`,
      );
      const batch = Array.from({ length: 6 }, () => signedDelivery(SECRET));
      try {
        const answers = await Promise.all(batch.map((d) => post(s.url, d)));
        assert.deepEqual(
          answers.map((a) => a.status),
          batch.map(() => 503),
        );
        assert.equal(answers[0]!.headers.get('retry-after'), '5');
        await s.recorder.flush();
        for (const d of batch) {
          const rows = await receiptsFor(d.deliveryId);
          assert.deepEqual(
            rows.map((r) => [r.outcome, r.httpStatus, r.reason]),
            [['unavailable', 503, 'database_unavailable']],
          );
          assert.equal(await eventFor(d.deliveryId), undefined);
        }
      } finally {
        await db.db.execute(sql`drop trigger fp_fail on fingerprints`);
      }
      // The provider retries: now each is accepted with its event.
      for (const d of batch) assert.equal((await post(s.url, d)).status, 200);
      for (const d of batch) assert.ok(await eventFor(d.deliveryId));
      assert.equal(await ackedWithoutEvent(), 0);
    });
  }

  test('events table locked (SHARE, as CREATE INDEX takes): 503 within seconds, then accepted', {
    skip: onPostgres ? false : 'needs a second connection (Postgres)',
  }, async () => {
    const locker = postgres(db.url!, { max: 1, onnotice: () => {} });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = locker.begin(async (tx) => {
      await tx`lock table events in share mode`;
      locked();
      await held;
    });
    await isLocked;
    const batch = Array.from({ length: 8 }, () => signedDelivery(SECRET));
    try {
      const t0 = Date.now();
      const answers = await Promise.all(batch.map((d) => post(s.url, d)));
      const took = Date.now() - t0;
      assert.deepEqual(
        answers.map((a) => a.status),
        batch.map(() => 503),
      );
      assert.ok(took < 10_000, `answered in ${took} ms, well inside the provider's 30 s`);
    } finally {
      release();
      await holder;
      await locker.end();
    }
    for (const d of batch) assert.equal((await post(s.url, d)).status, 200);
    for (const d of batch) assert.ok(await eventFor(d.deliveryId));
    assert.equal(await ackedWithoutEvent(), 0);
  });
});

describe('an embedded database that stops answering: 503 at the write deadline, never an ack', {
  skip: onPostgres ? 'PGlite: one connection that a long statement holds' : false,
}, () => {
  let s: ReceiverServer;
  before(async () => {
    s = await startReceiverServer({ secrets: [SECRET], db, worker: false, deadlineMs: 400 });
  });
  after(() => s.close());

  // What the app meets when PGlite stops answering (a failed fsync stops its Postgres, db/pglite-durable.mjs):
  // the one connection held here by a statement that outlasts the deadline.
  test('the write waits behind a 2 s statement: 503 write_timeout in time; the retry lands once', async () => {
    // The source and its secrets are read on the first delivery; after that the write is what waits.
    assert.equal((await post(s.url, signedDelivery(SECRET))).status, 200);
    const d = signedDelivery(SECRET);
    // drizzle's queries run when awaited or then'd: then() sends it now.
    const stuck = db.db.execute(sql`select pg_sleep(2)`).then(() => {});
    const t0 = Date.now();
    const answer = await post(s.url, d);
    const took = Date.now() - t0;
    assert.equal(answer.status, 503);
    assert.equal(answer.headers.get('retry-after'), '5');
    assert.ok(took < 1_500, `answered in ${took} ms, at the 400 ms deadline, not after the 2 s statement`);
    await stuck;
    // The write was in flight: it commits after the statement, and its receipt then says what the
    // provider was answered. One row for the one request, not an accepted 200 beside a 503.
    const end = Date.now() + 5000;
    let rows = await receiptsFor(d.deliveryId);
    while (!(rows.length === 1 && rows[0]!.httpStatus === 503) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 25));
      await s.recorder.flush();
      rows = await receiptsFor(d.deliveryId);
    }
    assert.deepEqual(
      rows.map((r) => [r.outcome, r.httpStatus, r.reason]),
      [['accepted', 503, 'write_timeout']],
    );
    // The provider's retry finds the event it created: a duplicate, one event, acknowledged once.
    const retry = await post(s.url, d);
    assert.equal(retry.status, 200);
    assert.deepEqual(retry.json, { received: true, duplicate: true });
    assert.equal((await db.db.select().from(events).where(eq(events.deliveryId, d.deliveryId))).length, 1);
    assert.equal(await ackedWithoutEvent(), 0);
  });
});

describe('the worker retries transient database errors instead of dead-lettering them', () => {
  const dbError = (code: string) =>
    Object.assign(new Error('Failed query: insert into contacts … params: 42,Ada'), {
      cause: Object.assign(new Error(`database says ${code}`), { code }),
    });
  for (const code of ['55P03', '57014', '40P01', '40001', '53300', '08006', '57P01', '25006']) {
    test(`SQLSTATE ${code} is transient`, () => assert.equal(classify(dbError(code)), 'transient'));
  }
  for (const code of ['23505', '22P02', '42703', 'P0001']) {
    test(`SQLSTATE ${code} is permanent`, () => assert.equal(classify(dbError(code)), 'permanent'));
  }
  test('the stored error is the database reason, never the statement or its parameters', () => {
    const text = describeError(dbError('23505'));
    assert.equal(text, 'database error 23505: database says 23505');
    assert.doesNotMatch(text, /insert into|Ada/);
  });

  test('a handler meeting a failing trigger stores SQLSTATE and message, not the query', async () => {
    const s = await startReceiverServer({ secrets: [SECRET], db, worker: { maxAttempts: 1 } });
    await db.db.execute(
      sql.raw(`create or replace function contacts_fail() returns trigger language plpgsql as $$
        begin raise exception 'contacts are frozen' using errcode = 'P0001'; end $$`),
    );
    await db.db.execute(
      sql`create trigger contacts_fail before insert on contacts for each row execute function contacts_fail()`,
    );
    try {
      const d = signedDelivery(SECRET, {
        data: { contact: { id: uniqueId(), name: 'Private Name', email: 'secret@example.test' } },
      });
      assert.equal((await post(s.url, d)).status, 200);
      const ev = await waitFor('dead', async () => {
        const e = await eventFor(d.deliveryId);
        return e?.status === 'dead' && e;
      });
      assert.equal(ev.lastError, 'database error P0001: contacts are frozen');
      const [a] = await db.db.select().from(attempts).where(eq(attempts.eventId, ev.id));
      assert.doesNotMatch(a?.error ?? '', /Private Name|secret@example|insert into/);
    } finally {
      await db.db.execute(sql`drop trigger contacts_fail on contacts`);
      await s.close();
    }
  });

  test('a lock timeout inside a handler is retried, and the event is processed once the lock goes', {
    skip: onPostgres ? false : 'needs a second connection (Postgres)',
  }, async () => {
    const s = await startReceiverServer({
      secrets: [SECRET],
      db,
      worker: { maxAttempts: 10, backoffMs: 200 },
    });
    const locker = postgres(db.url!, { max: 1, onnotice: () => {} });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = locker.begin(async (tx) => {
      await tx`lock table contacts in access exclusive mode`;
      locked();
      await held;
    });
    await isLocked;
    try {
      const d = signedDelivery(SECRET);
      assert.equal((await post(s.url, d)).status, 200);
      // The handler waits on the lock, fails with 55P03 after lock_timeout and is scheduled again.
      const failed = await waitFor('a transient attempt', async () => {
        const ev = await eventFor(d.deliveryId);
        if (!ev) return null;
        const rows = await db.db.select().from(attempts).where(eq(attempts.eventId, ev.id));
        return rows.find((a) => a.result === 'transient');
      });
      assert.match(failed.error ?? '', /^database error 55P03/);
      assert.notEqual((await eventFor(d.deliveryId))?.status, 'dead');
      release();
      await holder;
      const ev = await waitFor('processed', async () => {
        const e = await eventFor(d.deliveryId);
        return e?.status === 'processed' && e;
      });
      assert.ok(ev.attempts >= 2);
    } finally {
      release();
      await holder.catch(() => {});
      await locker.end();
      await s.close();
    }
  });
});

describe('unauthenticated requests count for nothing beyond their own bounded refusal row', () => {
  test('3,000 refusals claiming distinct event types: one rollup cell, rows capped per client', async () => {
    const s = await startReceiverServer({ secrets: [SECRET], db, worker: false });
    try {
      const before = await db.db.execute(
        sql`select count(*)::int as n from receipts where outcome = 'rejected'`,
      );
      const n0 = rowsOf<{ n: number }>(before)[0]!.n;
      const tag = `flood-${uniqueId()}`;
      for (let i = 0; i < 3000; i += 100) {
        await Promise.all(
          Array.from({ length: 100 }, (_, j) =>
            post(s.url, {
              body: `{"n":${i + j}}`,
              headers: {
                'content-type': 'application/json',
                'x-skylight-event': `${tag}.type${i + j}`,
                'x-skylight-delivery': `${tag}-${i + j}`,
                'x-skylight-signature': `sha256=${'0'.repeat(64)}`,
              },
            }),
          ),
        );
      }
      // The claimed event types never became rollup keys: refusals share one fixed cell a minute.
      const cells = s.rollups.take();
      const rejected = cells.filter((c) => c.outcome === 'rejected');
      assert.ok(rejected.length <= 2, `${rejected.length} rejected cells (one per minute)`);
      assert.ok(rejected.every((c) => c.eventType === ''));
      assert.equal(
        rejected.reduce((a, c) => a + c.count, 0),
        3000,
        'every refusal is counted',
      );
      await writeRollups(db.db, cells);
      const [tiers] = rowsOf<{ n: number }>(
        await db.db.execute(
          sql`select count(*)::int as n from latency_rollups where event_type like ${`${tag}%`}`,
        ),
      );
      assert.equal(tiers!.n, 0);
      await s.recorder.flush();
      const after = await db.db.execute(
        sql`select count(*)::int as n,
                   count(*) filter (where body is not null)::int as with_body
              from receipts where outcome = 'rejected' and delivery_id like ${`${tag}%`}`,
      );
      const { n, with_body } = rowsOf<{ n: number; with_body: number }>(after)[0]!;
      // One client (127.0.0.1), at most two clock minutes: 60 rows and 5 kept in full a minute.
      assert.ok(n >= 60 && n <= 120, `${n} rows stored for 3,000 refusals`);
      assert.ok(with_body >= 5 && with_body <= 10, `${with_body} refusals kept with their body`);
      assert.ok(n0 + n < n0 + 3000);
    } finally {
      await s.close();
    }
  });

  test('the rollup buffer is bounded and a full buffer is one write that fits Postgres limits', async () => {
    const buffer = new RollupBuffer();
    const at = new Date();
    for (let i = 0; i < MAX_CELLS * 3; i++) {
      buffer.add({
        receivedAt: at,
        source: 'skylightchat',
        eventType: `signed.type${i}`,
        outcome: 'ignored',
        ackMs: 3,
        lagMs: 5,
      });
    }
    assert.ok(buffer.size <= MAX_CELLS + 1, `${buffer.size} cells`);
    const cells = buffer.take();
    assert.equal(
      cells.reduce((a, c) => a + c.count, 0),
      MAX_CELLS * 3,
      'nothing dropped while there is overflow room',
    );
    // 2,001 cells become ~8,000 tier rows: more than 65,535 bind parameters in one insert.
    await writeRollups(db.db, cells);
    const [row] = await db.db
      .select()
      .from(latencyRollups)
      .where(sql`${latencyRollups.eventType} = '(other)' and ${latencyRollups.granularity} = 'minute'`);
    assert.equal(row?.count, MAX_CELLS * 2);
  });
});

describe('replays of old signed deliveries are refused', () => {
  let s: ReceiverServer;
  before(async () => {
    s = await startReceiverServer({ secrets: [SECRET], db, worker: false, maxAgeMs: 3_600_000 });
  });
  after(() => s.close());

  for (const [name, ts, reason] of [
    [
      'signed timestamp two hours old (window one hour)',
      Math.floor(Date.now() / 1000) - 7200,
      'timestamp_stale',
    ],
    [
      'signed ISO timestamp a year old',
      new Date(Date.now() - 365 * 86_400_000).toISOString(),
      'timestamp_stale',
    ],
    ['signed timestamp an hour in the future', Math.floor(Date.now() / 1000) + 3600, 'timestamp_in_future'],
  ] as const) {
    test(`${name}: 400 ${reason}, nothing queued`, async () => {
      const d = signedDelivery(SECRET, { timestamp: ts });
      const r = await post(s.url, d);
      assert.equal(r.status, 400);
      await s.recorder.flush();
      const rows = await receiptsFor(d.deliveryId);
      assert.deepEqual(
        rows.map((x) => [x.outcome, x.reason]),
        [['rejected', reason]],
      );
      assert.equal(await eventFor(d.deliveryId), undefined);
    });
  }

  test('an unsigned X-Skylight-Timestamp header cannot make an old body fresh', async () => {
    const d = signedDelivery(SECRET, { timestamp: Math.floor(Date.now() / 1000) - 7200 });
    d.headers['x-skylight-timestamp'] = String(Math.floor(Date.now() / 1000));
    assert.equal((await post(s.url, d)).status, 400);
  });

  test('inside the window (and a little clock skew ahead): accepted', async () => {
    for (const ts of [Math.floor(Date.now() / 1000) - 1800, Math.floor(Date.now() / 1000) + 60]) {
      const d = signedDelivery(SECRET, { timestamp: ts });
      assert.equal((await post(s.url, d)).status, 200);
      assert.ok(await eventFor(d.deliveryId));
    }
  });
});

describe('a fingerprint duplicate can be processed by hand', () => {
  test('open → closed → open: the second "open" is a fingerprint duplicate; queued by hand it ends open', async () => {
    const s = await startReceiverServer({ secrets: [SECRET], db });
    try {
      const id = uniqueId();
      const open = { contact: { id, name: 'Ada', status: 'open' } };
      const closed = { contact: { id, name: 'Ada', status: 'closed' } };
      const sends = [
        signedDelivery(SECRET, { event: 'contact.updated', data: open }),
        signedDelivery(SECRET, { event: 'contact.updated', data: closed }),
        signedDelivery(SECRET, { event: 'contact.updated', data: open }),
      ];
      for (const d of sends) {
        assert.equal((await post(s.url, d)).status, 200);
        // In order, as the provider would: each processed before the next arrives.
        await waitFor('settled', async () => {
          const [r] = await receiptsFor(d.deliveryId);
          const e = r?.eventId
            ? (await db.db.select().from(events).where(eq(events.id, r.eventId)))[0]
            : null;
          return e?.status === 'processed';
        });
      }
      const [third] = await receiptsFor(sends[2]!.deliveryId);
      assert.deepEqual([third?.outcome, third?.reason], ['duplicate', 'fingerprint']);
      const status = async () =>
        rowsOf<{ status: string }>(await db.db.execute(sql`select status from contacts where id = ${id}`))[0]
          ?.status;
      assert.equal(await status(), 'closed', 'the fingerprint took the new "open" for a retry');

      const who = { actor: 'operator@example.test', ip: '127.0.0.1' };
      const first = await enqueueDelivery(db.db, third!.id, who);
      assert.equal(first.created, true);
      const again = await enqueueDelivery(db.db, third!.id, who);
      assert.deepEqual(again, { event_id: first.event_id, created: false }, 'enqueued twice: one event');
      s.worker?.nudge();
      await waitFor('reopened', async () => (await status()) === 'open');
      const [linked] = await receiptsFor(sends[2]!.deliveryId);
      assert.equal(linked?.eventId, first.event_id);
      const audit = rowsOf<{ actor: string; action: string; target: string }>(
        await db.db.execute(
          sql`select actor, action, target from audit_log where action = 'delivery_enqueue' and target = ${String(third!.id)}`,
        ),
      );
      assert.deepEqual(audit[0], { actor: who.actor, action: 'delivery_enqueue', target: String(third!.id) });

      const [accepted] = await receiptsFor(sends[0]!.deliveryId);
      await assert.rejects(
        enqueueDelivery(db.db, accepted!.id, who),
        (err) => err instanceof AppError && err.code === 'conflict',
      );
    } finally {
      await s.close();
    }
  });
});

describe('credentials in headers are never stored', () => {
  test('Proxy-Authorization, X-Auth-Token, X-Api-Token and friends are redacted', async () => {
    const s = await startReceiverServer({ secrets: [SECRET], db, worker: false });
    try {
      const d = signedDelivery(SECRET);
      const creds = {
        'proxy-authorization': 'Basic dXNlcjpwYXNz',
        'x-auth-token': 'tok_live_abc',
        'x-api-token': 'tok_api_abc',
        'x-access-key': 'AKIAEXAMPLE',
        'x-client-secret': 'cs_123',
        'x-session-id': 'sess_123',
      };
      assert.equal((await post(s.url, { body: d.body, headers: { ...d.headers, ...creds } })).status, 200);
      const [rec] = await receiptsFor(d.deliveryId);
      for (const name of Object.keys(creds)) assert.equal(rec?.headers[name], '[redacted]', name);
      assert.equal(rec?.headers['x-skylight-event'], 'contact.created', 'other headers kept');
      const stored = JSON.stringify(rec?.headers);
      for (const value of Object.values(creds)) assert.ok(!stored.includes(value));
    } finally {
      await s.close();
    }
  });
});

function headersFor(body: string): Record<string, string> {
  return { 'content-type': 'application/json', 'x-skylight-signature': sign(body, SECRET) };
}
