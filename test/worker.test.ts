import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { eq, inArray, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { rowsOf } from '@/db/client';
import { getEvent, retryDeadLetter, retryDeadLetters } from '@/db/queries/dlq';
import { claimEvents, completeEvent } from '@/db/queries/queue';
import { attempts, contacts, effects, events, messages } from '@/db/schema';
import { contactUpsert } from '@/lib/worker/handlers/contact-upsert';
import { messageHandler } from '@/lib/worker/handlers/message';
import { Worker } from '@/lib/worker/worker';
import { openTestDb, type TestDb } from './helpers/db';
import { post, signedDelivery, uniqueId } from './helpers/deliveries';
import { type ReceiverServer, startReceiverServer } from './helpers/receiver-server';

const SECRET = 'worker-test-secret';

/** A downstream (notification sink) whose answer, and how long it takes, the test controls. */
function downstream() {
  const state = { status: 500, hits: 0, delayMs: 0 };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      state.hits++;
      setTimeout(() => res.writeHead(state.status).end(), state.delayMs);
    });
  });
  return {
    state,
    server,
    listen: () =>
      new Promise<string>((r) =>
        server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)),
      ),
  };
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function inbound(id = uniqueId()) {
  return {
    message: { id, direction: 'inbound', channel: 'whatsapp', content: 'hello', status: 'received' },
    contact: { id: 5, name: 'A' },
  };
}

describe('worker against a failing downstream', () => {
  let s: ReceiverServer;
  const sink = downstream();
  before(async () => {
    const url = await sink.listen();
    s = await startReceiverServer({
      secrets: [SECRET],
      worker: { maxAttempts: 4, backoffMs: 40, context: () => ({ notifyUrl: url }) },
    });
  });
  after(async () => {
    await s.close();
    sink.server.close();
  });

  test('transient failure: retried with growing delays, dead after the attempt limit', async () => {
    sink.state.status = 503;
    const d = signedDelivery(SECRET, { event: 'message.received', data: inbound() });
    assert.equal((await post(s.url, d)).status, 200);
    const ev = await until('dead letter', async () => {
      const [e] = await s.db.db.select().from(events).where(eq(events.deliveryId, d.deliveryId));
      return e?.status === 'dead' ? e : undefined;
    });
    assert.equal(ev.attempts, 4);
    assert.equal(ev.retried, true, 'counted in the retry rate');
    assert.match(ev.lastError ?? '', /downstream answered 503/);
    assert.ok(ev.deadAt instanceof Date);
    const rows = await s.db.db
      .select()
      .from(attempts)
      .where(eq(attempts.eventId, ev.id))
      .orderBy(attempts.attempt);
    assert.deepEqual(
      rows.map((r) => r.result),
      ['transient', 'transient', 'transient', 'transient'],
    );
    const starts = rows.map((r) => r.startedAt.getTime());
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    // Backoff base 40 ms with equal jitter: ≥20, ≥40, ≥80 ms, each gap at least the previous floor.
    assert.ok(gaps[0]! >= 20 && gaps[1]! >= 40 && gaps[2]! >= 80, `gaps ${gaps}`);
    assert.equal((await s.db.db.select().from(messages).where(eq(messages.sourceEventId, ev.id))).length, 0);
  });

  test('transient failure that recovers: processed once, after a retry', async () => {
    sink.state.status = 500;
    const hitsBefore = sink.state.hits;
    const d = signedDelivery(SECRET, { event: 'message.received', data: inbound() });
    await post(s.url, d);
    await until('first failure', async () => sink.state.hits > hitsBefore);
    sink.state.status = 200;
    const ev = await until('processed', async () => {
      const [e] = await s.db.db.select().from(events).where(eq(events.deliveryId, d.deliveryId));
      return e?.status === 'processed' ? e : undefined;
    });
    assert.ok(ev.attempts >= 2);
    assert.equal(ev.retried, true);
    assert.equal((await s.db.db.select().from(effects).where(eq(effects.eventId, ev.id))).length, 1);
    assert.equal((await s.db.db.select().from(messages).where(eq(messages.sourceEventId, ev.id))).length, 1);
  });

  test('a manual retry grants a fresh round, and attempts and history read in order across rounds', async () => {
    sink.state.status = 503;
    const d = signedDelivery(SECRET, { event: 'message.received', data: inbound() });
    await post(s.url, d);
    const dead = async () => {
      const [e] = await s.db.db.select().from(events).where(eq(events.deliveryId, d.deliveryId));
      return e?.status === 'dead' ? e : undefined;
    };
    const first = await until('first dead letter', dead);
    assert.equal(first.attempts, 4);
    // Still down: the retry gets four more automatic attempts, numbered 5 to 8, then dies again.
    await retryDeadLetter(s.db.db, first.id, { actor: 'ops@example.test', ip: null });
    const second = await until('second dead letter', dead);
    assert.equal(second.attempts, 4, 'a full round, not one attempt');
    assert.equal(second.attemptOffset, 4);
    sink.state.status = 200;
    await retryDeadLetters(s.db.db, { q: d.deliveryId }, { actor: 'lead@example.test', ip: null });
    await until('processed', async () => {
      const [e] = await s.db.db.select().from(events).where(eq(events.id, first.id));
      return e?.status === 'processed';
    });
    const got = await getEvent(s.db.db, first.id);
    assert.deepEqual(
      got!.attempt_history.map((a) => `${a.attempt} ${a.result}`),
      [1, 2, 3, 4, 5, 6, 7, 8].map((n) => `${n} transient`).concat('9 success'),
    );
    assert.deepEqual(
      got!.history.map((h) => `${h.kind} ${h.actor ?? '-'} ${h.detail}`),
      [
        'dead_lettered - transient errors, 4 attempts used',
        'retried ops@example.test retry',
        'dead_lettered - transient errors, 4 attempts used',
        'retried lead@example.test bulk retry',
      ],
    );
    // In time order: each dead-lettering after the attempt that caused it, each retry before the next.
    const at = (i: number) => got!.attempt_history[i]!.started_at.getTime();
    assert.ok(got!.history[0]!.at.getTime() >= at(3) && got!.history[1]!.at.getTime() <= at(4));
    assert.ok(got!.history[3]!.at.getTime() <= at(8));
  });

  test('permanent failure (invalid data): dead at once after one attempt', async () => {
    const d = signedDelivery(SECRET, {
      event: 'message.received',
      data: { message: { id: 'not-a-number' } },
    });
    await post(s.url, d);
    const ev = await until('dead letter', async () => {
      const [e] = await s.db.db.select().from(events).where(eq(events.deliveryId, d.deliveryId));
      return e?.status === 'dead' ? e : undefined;
    });
    assert.equal(ev.attempts, 1);
    assert.equal(ev.retried, false, 'dead without a retry');
    assert.match(ev.lastError ?? '', /invalid data: id/);
    const rows = await s.db.db.select().from(attempts).where(eq(attempts.eventId, ev.id));
    assert.deepEqual(
      rows.map((r) => r.result),
      ['permanent'],
    );
  });

  test('downstream 4xx is permanent', async () => {
    sink.state.status = 404;
    const d = signedDelivery(SECRET, { event: 'message.received', data: inbound() });
    await post(s.url, d);
    const ev = await until('dead letter', async () => {
      const [e] = await s.db.db.select().from(events).where(eq(events.deliveryId, d.deliveryId));
      return e?.status === 'dead' ? e : undefined;
    });
    assert.equal(ev.attempts, 1);
  });
});

describe('leases and idempotency', () => {
  let db: TestDb;
  let s: ReceiverServer;
  before(async () => {
    db = await openTestDb();
    s = await startReceiverServer({ secrets: [SECRET], worker: false, db });
  });
  after(async () => {
    await s.close();
    await db.close();
  });

  test('a worker killed mid-job: the lease expires and another worker processes the event once', async () => {
    const d = signedDelivery(SECRET, { event: 'contact.created' });
    await post(s.url, d);
    // "Worker A" claims with a short lease and dies (never completes).
    const [claimed] = await claimEvents(db.db, 'worker-a', 1, 300);
    assert.equal(claimed?.deliveryId, d.deliveryId);
    const b = new Worker(async () => db.prepared, {
      concurrency: 2,
      maxAttempts: 5,
      backoffMs: 10,
      pollMs: 50,
      id: 'worker-b',
      context: () => ({ notifyUrl: null }),
    });
    b.start();
    try {
      const ev = await until('processed by B', async () => {
        const [e] = await db.db.select().from(events).where(eq(events.deliveryId, d.deliveryId));
        return e?.status === 'processed' ? e : undefined;
      });
      assert.deepEqual(
        [ev.attempts, ev.interruptions],
        [1, 1],
        'the dead worker’s claim counts as an interruption, not as one of the event’s attempts',
      );
      const fx = await db.db.select().from(effects).where(eq(effects.eventId, ev.id));
      assert.equal(fx.length, 1);
      // Worker A wakes up late and tries to complete: refused, nothing applied twice.
      const late = await db.db.transaction((tx) =>
        completeEvent(
          tx,
          { eventId: ev.id, attempt: 1, worker: 'worker-a', startedAt: new Date(), durationMs: 1 },
          'contact.created',
        ),
      );
      assert.equal(late, false);
      assert.equal((await db.db.select().from(effects).where(eq(effects.eventId, ev.id))).length, 1);
      const rows = await db.db.select().from(attempts).where(eq(attempts.eventId, ev.id));
      assert.deepEqual(
        rows.map((r) => [r.worker, r.result]),
        [['worker-b', 'success']],
      );
    } finally {
      await b.stop();
    }
  });

  test('handlers are idempotent when re-run', async () => {
    const id = uniqueId();
    const ev = {
      id: 1,
      source: 'skylightchat',
      deliveryId: 'x',
      eventType: 'contact.created',
      data: {},
      providerTs: null,
    };
    const value = contactUpsert.parse({ contact: { id, name: 'Once', tags: ['a'] } });
    await db.db.transaction((tx) => contactUpsert.apply(tx, value, ev));
    await db.db.transaction((tx) => contactUpsert.apply(tx, value, ev));
    const rows = await db.db.select().from(contacts).where(eq(contacts.id, id));
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.name, 'Once');
    // A partial contact.updated keeps the fields it does not carry.
    await db.db.transaction((tx) =>
      contactUpsert.apply(tx, contactUpsert.parse({ contact: { id, tags: ['b'] } }), ev),
    );
    const [updated] = await db.db.select().from(contacts).where(eq(contacts.id, id));
    assert.equal(updated!.name, 'Once');
    assert.deepEqual(updated!.tags, ['b']);

    const mid = uniqueId();
    const m = messageHandler.parse({
      id: mid,
      contact_id: 9,
      value: 'flat shape',
      message_by: 'contact',
      source: 'telegram',
    });
    await db.db.transaction((tx) => messageHandler.apply(tx, m, { ...ev, eventType: 'message.received' }));
    await db.db.transaction((tx) => messageHandler.apply(tx, m, { ...ev, eventType: 'message.received' }));
    const msgs = await db.db.select().from(messages).where(eq(messages.id, mid));
    assert.equal(msgs.length, 1);
    assert.equal(msgs[0]!.content, 'flat shape');
    assert.equal(msgs[0]!.direction, 'inbound');
    assert.equal(msgs[0]!.channel, 'telegram');
  });

  test('clean stop releases held events for other workers at once', async () => {
    const d = signedDelivery(SECRET, { event: 'contact.created' });
    await post(s.url, d);
    const [claimed] = await claimEvents(db.db, 'worker-c', 1, 60_000);
    assert.ok(claimed);
    const { releaseEvents } = await import('@/db/queries/queue');
    await releaseEvents(db.db, 'worker-c', [claimed.id]);
    const [e] = await db.db.select().from(events).where(eq(events.id, claimed.id));
    assert.equal(e!.status, 'pending');
    assert.equal(e!.lockedBy, null);
    assert.equal(e!.attempts, 0);
  });
});

describe('a stop past its grace, with a batch still holding its rows', () => {
  let db: TestDb;
  before(async () => {
    db = await openTestDb();
  });
  after(() => db.close());

  test('gives back the events it can at once and skips the row the batch has locked', {
    skip: !process.env.TEST_DATABASE_URL && 'a second session holding a row lock needs Postgres',
  }, async () => {
    const queued = await db.db
      .insert(events)
      .values(
        [1, 2].map(() => ({
          source: 'skylightchat',
          provider: 'skylight',
          deliveryId: `release-${uniqueId()}`,
          eventType: 'message.received',
          payload: {},
        })),
      )
      .returning({ id: events.id });
    const ids = queued.map((e) => e.id);
    const claimed = await claimEvents(db.db, 'worker-r', 2, 60_000);
    assert.deepEqual(claimed.map((e) => e.id).sort(), [...ids].sort());
    // The batch of the first event is still in its transaction (it locks its leases first).
    const batch = postgres(db.url!, { max: 1, onnotice: () => {} });
    const stopWorker = postgres(db.url!, { max: 1, onnotice: () => {}, connection: { lock_timeout: 1000 } });
    let finish!: () => void;
    const open = new Promise<void>((r) => {
      finish = r;
    });
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => {
      locked = r;
    });
    const running = batch.begin(async (tx) => {
      await tx`select 1 from events where id = ${ids[0]!} for update`;
      locked();
      await open;
    });
    try {
      await isLocked;
      const { releaseEvents } = await import('@/db/queries/queue');
      const { drizzle } = await import('drizzle-orm/postgres-js');
      await releaseEvents(drizzle(stopWorker) as never, 'worker-r', ids);
      const rows = await db.db.select().from(events).where(inArray(events.id, ids));
      const byId = new Map(rows.map((e) => [e.id, e.status]));
      assert.equal(byId.get(ids[1]!), 'pending', 'the other event is given back');
      assert.equal(byId.get(ids[0]!), 'processing', 'the locked one is left to its batch or its lease');
    } finally {
      finish();
      await running;
      await batch.end();
      await stopWorker.end();
    }
  });
});

describe('the inline worker after a batch', () => {
  let s: ReceiverServer;
  const sink = downstream();
  before(async () => {
    const url = await sink.listen();
    sink.state.status = 200;
    // One slot, as on PGlite, and a poll far longer than the test: only a nudge or a finished batch
    // makes it claim.
    s = await startReceiverServer({
      secrets: [SECRET],
      worker: { concurrency: 1, pollMs: 60_000, context: () => ({ notifyUrl: url }) },
    });
  });
  after(async () => {
    await s.close();
    sink.server.close();
  });

  const processed = (deliveryId: string) =>
    until(`${deliveryId} processed`, async () => {
      const [e] = await s.db.db.select().from(events).where(eq(events.deliveryId, deliveryId));
      return e?.status === 'processed';
    });

  test('a delivery committed while a batch runs is claimed as that batch ends, not at the next poll', async () => {
    sink.state.delayMs = 400;
    try {
      const hits = sink.state.hits;
      const first = signedDelivery(SECRET, { event: 'message.received', data: inbound() });
      await post(s.url, first);
      // The first event's batch waits on the downstream now; the one slot is taken, so the nudge
      // for the second finds no free slot.
      await until('the first notification', async () => sink.state.hits > hits);
      const second = signedDelivery(SECRET, { event: 'message.received', data: inbound() });
      assert.equal((await post(s.url, second)).status, 200);
      await processed(first.deliveryId);
      await processed(second.deliveryId);
    } finally {
      sink.state.delayMs = 0;
    }
  });
});

describe('an inline worker that gathers after a nudge (WORKER_GATHER_MS)', () => {
  let s: ReceiverServer;
  before(async () => {
    // A poll far longer than the test: only nudges make it claim. The window is wide so four posts
    // 40 ms apart fit in it on a loaded CI machine (300 ms did not once on Postgres: the fourth post
    // landed after the claim); without gathering, the first nudge still claims the first alone.
    s = await startReceiverServer({
      secrets: [SECRET],
      worker: { concurrency: 1, pollMs: 60_000, gatherMs: 1500 },
    });
  });
  after(() => s.close());

  test('deliveries that arrive within the window are claimed and completed in one transaction', async () => {
    const sent: string[] = [];
    for (let i = 0; i < 4; i++) {
      const d = signedDelivery(SECRET, { event: 'contact.created' });
      assert.equal((await post(s.url, d)).status, 200);
      sent.push(d.deliveryId);
      await new Promise((r) => setTimeout(r, 40));
    }
    const rows = await until('all four processed', async () => {
      const got = await s.db.db.select().from(events).where(inArray(events.deliveryId, sent));
      return got.length === 4 && got.every((e) => e.status === 'processed') ? got : undefined;
    });
    // One completion statement: the same now() for every event of the transaction.
    assert.deepEqual(new Set(rows.map((e) => e.processedAt!.getTime())).size, 1);
    assert.ok(rows.every((e) => e.attempts === 1));
  });
});

describe('wake-ups that come while the worker is claiming', () => {
  let db: TestDb;
  before(async () => {
    db = await openTestDb();
  });
  after(() => db.close());

  /**
   * A worker with a poll far longer than the test whose claims wait on a gate the test opens: the
   * loop is inside a claim, not asleep, while the test nudges or stops it.
   */
  function gatedWorker() {
    let open!: () => void;
    let gate = new Promise<void>((r) => {
      open = r;
    });
    const claims = { started: 0 };
    const w = new Worker(
      async () => {
        claims.started++;
        await gate;
        return db.prepared;
      },
      { concurrency: 1, maxAttempts: 3, backoffMs: 10, pollMs: 60_000, context: () => ({ notifyUrl: null }) },
    );
    return {
      w,
      claims,
      openGate: () => {
        open();
        gate = Promise.resolve();
      },
    };
  }

  test('a nudge during a claim is kept: the loop claims again at once, not after the poll', async () => {
    const { w, claims, openGate } = gatedWorker();
    w.start();
    try {
      await until('the first claim', async () => claims.started === 1);
      w.nudge();
      openGate();
      // Without the kept nudge the loop sleeps the whole poll (60 s) before its second claim.
      await until('a second claim', async () => claims.started >= 2, 10_000);
    } finally {
      await w.stop();
    }
  });

  test('a stop during a claim ends the loop at once, not after the poll', async () => {
    const { w, claims, openGate } = gatedWorker();
    w.start();
    await until('the first claim', async () => claims.started === 1);
    const t0 = Date.now();
    const stopped = w.stop();
    openGate();
    await stopped;
    assert.ok(Date.now() - t0 < 10_000, `stop took ${Date.now() - t0} ms`);
    assert.equal(w.status, 'stopped');
  });
});

describe('a worker of its own: the database briefly gone, a stop past its grace', () => {
  let db: TestDb;
  const sink = downstream();
  let url: string;
  before(async () => {
    db = await openTestDb();
    url = await sink.listen();
  });
  after(async () => {
    sink.server.close();
    await db.close();
  });

  /** A message.received event in the inbox (its handler posts a notification to the sink). */
  async function queueInbound(interruptions = 0) {
    const [ev] = await db.db
      .insert(events)
      .values({
        source: 'skylightchat',
        provider: 'skylight',
        deliveryId: `own-${uniqueId()}`,
        eventType: 'message.received',
        payload: { event: 'message.received', data: inbound() },
        interruptions,
      })
      .returning({ id: events.id });
    return ev!.id;
  }

  test('is written once the database is back within the lease: an attempt, not an interruption', async () => {
    let down = false;
    const w = new Worker(
      async () => {
        if (down)
          throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
        return db.prepared;
      },
      {
        concurrency: 1,
        maxAttempts: 5,
        backoffMs: 60_000,
        pollMs: 50,
        leaseMs: 6000,
        id: 'flaky-db',
        context: () => ({ notifyUrl: url }),
      },
    );
    // The downstream fails the notification, and the database goes away as it does: the handler's
    // failure meets a database that cannot record it, for a second and a half.
    sink.state.status = 503;
    sink.server.once('request', () => {
      down = true;
      setTimeout(() => {
        down = false;
      }, 1500);
    });
    const id = await queueInbound();
    const states = new Set<string>();
    const sampler = setInterval(() => states.add(w.status), 20);
    w.start();
    try {
      const e = await until('the failure recorded', async () => {
        const [row] = await db.db.select().from(events).where(eq(events.id, id));
        return row?.status === 'pending' && row.attempts === 1 ? row : undefined;
      });
      assert.equal(e.interruptions, 0);
      assert.match(e.lastError ?? '', /downstream answered 503/);
      const att = await db.db.select().from(attempts).where(eq(attempts.eventId, id));
      assert.deepEqual(
        att.map((a) => [a.attempt, a.result]),
        [[1, 'transient']],
      );
      // Health saw the worker paused while the database refused it, and running again after.
      assert.ok(states.has('paused'), `states seen: ${[...states]}`);
      await until('the worker resumed', async () => w.status === 'running' || undefined);
    } finally {
      clearInterval(sampler);
      await w.stop();
    }
  });

  test("a retry is scheduled by the database's clock, not a worker host's that runs behind it", async () => {
    const w = new Worker(async () => db.prepared, {
      concurrency: 1,
      maxAttempts: 5,
      backoffMs: 60_000,
      pollMs: 50,
      id: 'clock-behind',
      context: () => ({ notifyUrl: url }),
    });
    sink.state.status = 503;
    const id = await queueInbound();
    const realNow = Date.now;
    Date.now = () => realNow() - 10 * 60_000;
    w.start();
    try {
      await until('the failure recorded', async () => {
        const [row] = await db.db.select().from(events).where(eq(events.id, id));
        return row && row.attempts >= 1 && row.status === 'pending' ? row : undefined;
      });
      const [due] = rowsOf<{ in_s: number; attempts: number }>(
        await db.db.execute(sql`select extract(epoch from next_attempt_at - now())::float8 as in_s, attempts
          from events where id = ${id}`),
      );
      assert.equal(due?.attempts, 1, 'not retried at once');
      // 30 to 60 s (half the delay is jitter); a clock 10 min behind made it 9 min overdue.
      assert.ok(due!.in_s > 25, `the retry is 30-60 s away by the database clock, got ${due!.in_s} s`);
    } finally {
      Date.now = realNow;
      await w.stop();
    }
  });

  test('gives the events back and starts none of their batches after it', async () => {
    // Asked for after the stop, the database would be opened again as the process closes it.
    let stopped = false;
    let askedAfterStop = 0;
    const w = new Worker(
      async () => {
        if (stopped) askedAfterStop++;
        return db.prepared;
      },
      {
        concurrency: 1,
        maxAttempts: 5,
        backoffMs: 60_000,
        pollMs: 50,
        id: 'stopping',
        context: () => ({ notifyUrl: url }),
      },
    );
    // An event interrupted once runs as a batch of its own, ahead of the other in the same lane.
    const ids = [await queueInbound(1), await queueInbound(0)];
    sink.state.status = 200;
    sink.state.delayMs = 1500;
    sink.state.hits = 0;
    w.start();
    await until('the first notification sent', async () => sink.state.hits === 1);
    await w.stop(200);
    stopped = true;
    const back = await db.db.select().from(events).where(inArray(events.id, ids));
    assert.ok(
      back.every((e) => e.status === 'pending' && e.lockedBy === null),
      'both given back',
    );
    // The first batch's notification answers after the stop; the lane must not go on to the second.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(sink.state.hits, 1, 'no notification for an event given back');
    assert.equal(askedAfterStop, 0, 'the late batch left the database alone');
    sink.state.delayMs = 0;
  });
});

describe('an event that kills its worker every time', () => {
  let db: TestDb;
  let url: string;
  let onPoison = () => {};
  // The downstream: the poison message's notification is never answered, as if the process died
  // sending it; every other one is.
  const sink = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      notified.push(body);
      if (body.includes('poison')) onPoison();
      else if (body.includes('slow')) setTimeout(() => res.writeHead(200).end(), 1500);
      else res.writeHead(200).end();
    });
  });
  const notified: string[] = [];
  before(async () => {
    db = await openTestDb();
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/`;
  });
  after(async () => {
    sink.closeAllConnections();
    sink.close();
    await db.close();
  });

  /** A message.received event whose notification carries `content` (what the sink reacts to). */
  async function queueMessage(content: string, extra: Partial<typeof events.$inferInsert> = {}) {
    const [ev] = await db.db
      .insert(events)
      .values({
        source: 'skylightchat',
        provider: 'skylight',
        deliveryId: `crash-${uniqueId()}`,
        eventType: 'message.received',
        payload: {
          event: 'message.received',
          data: { message: { id: uniqueId(), direction: 'inbound', content }, contact: { id: 5, name: 'A' } },
        },
        ...extra,
      })
      .returning({ id: events.id });
    return ev!.id;
  }

  test('is dead-lettered after MAX_INTERRUPTIONS crashes, and the events claimed beside it are processed', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 16; i++) ids.push(await queueMessage(i === 5 ? 'poison' : `innocent-${i}`));
    let crashes = 0;
    const processes: Worker[] = [];
    // One process after another: each "dies" when the poison runs (its database calls never return,
    // as after a SIGKILL), and a new one starts with a new id.
    const startProcess = () => {
      let dead = false;
      const w = new Worker(async () => (dead ? new Promise<never>(() => {}) : db.prepared), {
        concurrency: 1,
        batchSize: 16,
        maxAttempts: 5,
        backoffMs: 10,
        pollMs: 20,
        leaseMs: 400,
        id: `process-${crashes}`,
        context: () => ({ notifyUrl: url }),
      });
      onPoison = () => {
        if (dead) return;
        dead = true;
        crashes++;
        setImmediate(startProcess);
      };
      w.start();
      processes.push(w);
    };
    startProcess();
    const rows = await until(
      'every event processed or dead',
      async () => {
        const r = await db.db.select().from(events).where(inArray(events.id, ids));
        return r.every((e) => e.status === 'processed' || e.status === 'dead') ? r : undefined;
      },
      30_000,
    ).finally(async () => {
      const live = processes.pop();
      // A "dead" one's stop never ends (its database never answers): its loop ends, which is enough.
      for (const w of processes) void w.stop(0);
      await live?.stop();
    });
    const poison = rows.find((e) => e.id === ids[5])!;
    assert.equal(poison.status, 'dead');
    assert.match(poison.lastError ?? '', /interrupted 5 times/);
    assert.equal(crashes, 5, 'each crash was the poison running');
    const innocents = rows.filter((e) => e.id !== ids[5]);
    assert.deepEqual(
      innocents.filter((e) => e.status !== 'processed').map((e) => [e.id, e.status, e.interruptions]),
      [],
      'no other event was dead-lettered for the crashes',
    );
    assert.ok(
      innocents.every((e) => e.interruptions <= 1),
      'only the first crash caught the events beside it',
    );
  });

  test('an interrupted event is claimed only by a worker with nothing running (its lease would run out while it waited)', async () => {
    const a = new Worker(async () => db.prepared, {
      concurrency: 2,
      batchSize: 1,
      maxAttempts: 5,
      backoffMs: 10,
      pollMs: 20,
      leaseMs: 10_000,
      id: 'busy-a',
      context: () => ({ notifyUrl: url }),
    });
    await queueMessage('slow one');
    a.start();
    try {
      await until('the slow notification under way', async () =>
        notified.some((n) => n.includes('slow one')),
      );
      // A claim whose worker died holding it: due again, interrupted.
      const suspect = await queueMessage('suspect', {
        status: 'processing',
        lockedBy: 'gone',
        attempts: 1,
        nextAttemptAt: new Date(Date.now() - 1000),
      });
      // The worker has a free slot, but something running: it leaves the suspect (and claims nothing).
      await new Promise((r) => setTimeout(r, 400));
      const [waiting] = await db.db.select().from(events).where(eq(events.id, suspect));
      assert.equal(waiting?.lockedBy, 'gone', 'not claimed by a worker with a batch running');
      const done = await until('the suspect processed once the worker is idle', async () => {
        const [e] = await db.db.select().from(events).where(eq(events.id, suspect));
        return e?.status === 'processed' ? e : undefined;
      });
      assert.equal(done.interruptions, 1);
      assert.equal(notified.filter((n) => n.includes('suspect')).length, 1, 'its notification went out once');
      const att = await db.db.select().from(attempts).where(eq(attempts.eventId, suspect));
      assert.deepEqual(
        att.map((x) => x.result),
        ['success'],
      );
    } finally {
      await a.stop();
    }
  });
});
