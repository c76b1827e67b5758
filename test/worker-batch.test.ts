import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { inArray, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { rowsOf } from '@/db/client';
import { attempts, contacts, effects, events } from '@/db/schema';
import { lanes, MAX_INTERRUPTIONS, Worker } from '@/lib/worker/worker';
import { openTestDb, type TestDb } from './helpers/db';

/** Pending contact.created events for these contact ids (names as given), inserted as the receiver would. */
async function queueContacts(db: TestDb, people: Array<{ id: number; name: string }>): Promise<number[]> {
  const rows = rowsOf<{ id: number | string }>(
    await db.db.execute(sql`
      insert into events (source, provider, delivery_id, event_type, fingerprint, payload)
      select 'skylightchat', 'skylight', 'batch-' || p.id, 'contact.created', 'batch-' || p.id,
             jsonb_build_object('event', 'contact.created', 'data',
               jsonb_build_object('contact', jsonb_build_object('id', p.id, 'name', p.name)))
        from json_to_recordset(${JSON.stringify(people)}::json) as p(id bigint, name text)
       order by p.id
      returning id`),
  );
  return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
}

const worker = (db: TestDb, id: string, batchSize = 16) =>
  new Worker(async () => db.prepared, {
    concurrency: 1,
    batchSize,
    maxAttempts: 1,
    backoffMs: 10,
    pollMs: 50,
    leaseMs: 1500,
    id,
    context: () => ({ notifyUrl: null }),
  });

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const statusOf = async (db: TestDb, ids: number[]) =>
  (await db.db.select({ id: events.id, status: events.status }).from(events).where(inArray(events.id, ids)))
    .sort((a, b) => a.id - b.id)
    .map((e) => e.status);

/** Runs a worker (batches of 16) until every event of `ids` is processed; the transactions it took. */
async function transactionsToProcess(db: TestDb, ids: number[], id: string): Promise<number> {
  let transactions = 0;
  const counted = new Proxy(db.prepared, {
    get(target, key, receiver) {
      if (key !== 'transaction') return Reflect.get(target, key, receiver);
      return (...args: Parameters<typeof target.transaction>) => {
        transactions++;
        return target.transaction(...args);
      };
    },
  });
  const w = new Worker(async () => counted, {
    concurrency: 1,
    batchSize: 16,
    maxAttempts: 1,
    backoffMs: 10,
    pollMs: 50,
    id,
    context: () => ({ notifyUrl: null }),
  });
  w.start();
  try {
    await until('processed', async () => (await statusOf(db, ids)).every((s) => s === 'processed'));
  } finally {
    await w.stop();
  }
  return transactions;
}

describe('worker batches: exactly once', () => {
  let db: TestDb;
  before(async () => {
    db = await openTestDb();
  });
  after(async () => {
    await db.close();
  });

  test('a deep queue is completed in batches: twelve events, one transaction', async () => {
    const people = Array.from({ length: 12 }, (_, k) => ({ id: 7_000_000 + k, name: `B${k}` }));
    const ids = await queueContacts(db, people);
    assert.equal(await transactionsToProcess(db, ids, 'batch-one'), 1);
    assert.equal((await db.db.select().from(effects).where(inArray(effects.eventId, ids))).length, 12);
    const saved = await db.db
      .select({ id: contacts.id })
      .from(contacts)
      .where(
        inArray(
          contacts.id,
          people.map((p) => p.id),
        ),
      );
    assert.equal(saved.length, 12);
  });

  test('one batch: different objects side by side, one object in event order (the newest version wins)', async () => {
    // Contact 7_400_000 changes four times in one batch, its versions arriving 2, 3, 1, 4; the other
    // events are other contacts and one message sent twice (distinct deliveries of the same message).
    const contact = (id: number, name: string, updatedAt?: string) => ({
      type: 'contact.updated',
      data: { contact: { id, name, ...(updatedAt ? { updated_at: updatedAt } : {}) } },
    });
    const message = { type: 'message.received', data: { message: { id: 9_900_001, content: 'hi' } } };
    const queued = [
      contact(7_400_000, 'two', '2026-01-01T00:00:02Z'),
      contact(7_400_001, 'A'),
      message,
      contact(7_400_000, 'three', '2026-01-01T00:00:03Z'),
      contact(7_400_002, 'B'),
      contact(7_400_000, 'one', '2026-01-01T00:00:01Z'),
      message,
      contact(7_400_003, 'C'),
      contact(7_400_000, 'four', '2026-01-01T00:00:04Z'),
      contact(7_400_004, 'D'),
      // A change with a version, then one without (always applied): in event order the second wins.
      contact(7_400_005, 'dated', '2026-01-01T00:00:05Z'),
      contact(7_400_005, 'undated'),
    ];
    const rows = rowsOf<{ id: number | string }>(
      await db.db.execute(sql`
        insert into events (source, provider, delivery_id, event_type, fingerprint, payload)
        select 'skylightchat', 'skylight', 'order-' || q.k, q.t, 'order-' || q.k,
               jsonb_build_object('event', q.t, 'data', q.d)
          from json_to_recordset(${JSON.stringify(queued.map((e, k) => ({ k, t: e.type, d: e.data })))}::json)
            as q(k int, t text, d jsonb)
         order by q.k
        returning id`),
    );
    const ids = rows.map((r) => Number(r.id)).sort((a, b) => a - b);
    assert.equal(
      await transactionsToProcess(db, ids, 'batch-order'),
      1,
      'the twelve events in one transaction',
    );
    const [c] = await db.db
      .select()
      .from(contacts)
      .where(inArray(contacts.id, [7_400_000]));
    assert.equal(c?.name, 'four');
    assert.equal(c?.sourceEventId, ids[8]);
    const results = (await db.db.select().from(attempts).where(inArray(attempts.eventId, ids)))
      .sort((a, b) => a.eventId - b.eventId)
      .map((a) => a.result);
    assert.deepEqual(
      results,
      ids.map((_, k) => (k === 5 ? 'skipped_stale' : 'success')),
      'only the change older than one already applied is skipped',
    );
    const others = await db.db
      .select({ id: contacts.id, name: contacts.name })
      .from(contacts)
      .where(inArray(contacts.id, [7_400_001, 7_400_002, 7_400_003, 7_400_004]));
    assert.deepEqual(others.map((o) => o.name).sort(), ['A', 'B', 'C', 'D']);
    const [last] = await db.db
      .select()
      .from(contacts)
      .where(inArray(contacts.id, [7_400_005]));
    assert.equal(
      last?.name,
      'undated',
      "one contact's changes apply in event order, even side by side with others",
    );
    const msgs = rowsOf<{ n: number }>(
      await db.db.execute(sql`select count(*)::int as n from messages where id = 9900001`),
    );
    assert.equal(Number(msgs[0]!.n), 1);
  });

  test('one failing event rolls its batch back; the others are written again alone, each effect once', async () => {
    // A database error inside one handler's writes, as a constraint on a side table would raise.
    await db.db.execute(sql`
      create function refuse_boom() returns trigger language plpgsql as $$
      begin
        if new.name = 'boom' then raise exception 'boom refused'; end if;
        return new;
      end $$`);
    await db.db.execute(sql`
      create trigger contacts_refuse_boom before insert or update on contacts
        for each row execute function refuse_boom()`);
    const people = Array.from({ length: 12 }, (_, k) => ({
      id: 7_100_000 + k,
      name: k === 7 ? 'boom' : `P${k}`,
    }));
    const ids = await queueContacts(db, people);
    const w = worker(db, 'batch-a');
    w.start();
    try {
      await until('every event finished', async () =>
        (await statusOf(db, ids)).every((s) => s === 'processed' || s === 'dead'),
      );
    } finally {
      await w.stop();
    }
    const status = await statusOf(db, ids);
    assert.deepEqual(
      status,
      ids.map((_, k) => (k === 7 ? 'dead' : 'processed')),
    );
    const fx = await db.db.select().from(effects).where(inArray(effects.eventId, ids));
    assert.deepEqual(
      fx.map((f) => f.eventId).sort((a, b) => a - b),
      ids.filter((_, k) => k !== 7),
      'one effect per processed event, none for the refused one',
    );
    const saved = await db.db
      .select({ id: contacts.id })
      .from(contacts)
      .where(
        inArray(
          contacts.id,
          people.map((p) => p.id),
        ),
      );
    assert.equal(saved.length, 11);
    const att = await db.db.select().from(attempts).where(inArray(attempts.eventId, ids));
    assert.equal(att.filter((a) => a.result === 'success').length, 11);
    assert.equal(att.length, 12, 'one attempt each: the rolled-back batch recorded nothing');
    await db.db.execute(sql`drop trigger contacts_refuse_boom on contacts`);
  });

  test('a worker process killed mid-batch commits nothing; another worker processes each event once', {
    skip: process.env.TEST_DATABASE_URL
      ? false
      : 'needs Postgres: the worker runs in a process that is killed',
  }, async () => {
    const people = Array.from({ length: 8 }, (_, k) => ({ id: 7_200_000 + k, name: `K${k}` }));
    const ids = await queueContacts(db, people);
    // The fifth contact's row is locked by another session: the batch applies four events, then waits.
    await db.db.insert(contacts).values({
      source: 'skylightchat',
      id: people[4]!.id,
      name: 'old',
      data: {},
      sourceEventId: ids[4]!,
      updatedAt: new Date(0),
    });
    const holder = postgres(db.url!, { max: 1, onnotice: () => {} });
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const locking = holder.begin(async (tx) => {
      await tx`select 1 from contacts where id = ${people[4]!.id} for update`;
      await held;
    });
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/helpers/batch-worker.ts', db.url!, 'batch-killed'],
      {
        stdio: 'ignore',
      },
    );
    try {
      await until('the batch waiting on the lock', async () => {
        const [r] = rowsOf<{ n: number }>(
          await db.db.execute(sql`select count(*)::int as n from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock'`),
        );
        return r!.n > 0;
      });
      // Mid-batch: four events' writes are done inside the open transaction, none is visible.
      const claimed = await db.db.select().from(events).where(inArray(events.id, ids));
      assert.ok(claimed.every((e) => e.lockedBy === 'batch-killed' && e.status === 'processing'));
      assert.equal((await db.db.select().from(effects).where(inArray(effects.eventId, ids))).length, 0);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    } finally {
      child.kill('SIGKILL');
      release();
      await locking;
      await holder.end();
    }
    const b = worker(db, 'batch-b');
    b.start();
    try {
      await until('processed by B after the leases expired', async () =>
        (await statusOf(db, ids)).every((s) => s === 'processed'),
      );
    } finally {
      await b.stop();
    }
    const fx = await db.db.select().from(effects).where(inArray(effects.eventId, ids));
    assert.deepEqual(
      fx.map((f) => f.eventId).sort((a, b) => a - b),
      ids,
      'exactly one effect per event',
    );
    const att = await db.db.select().from(attempts).where(inArray(attempts.eventId, ids));
    assert.deepEqual(
      att.map((a) => [a.worker, a.result]),
      ids.map(() => ['batch-b', 'success']),
      'the killed batch left no attempt; B completed each event once',
    );
    const evs = await db.db.select().from(events).where(inArray(events.id, ids));
    assert.deepEqual(
      evs.map((e) => [e.attempts, e.interruptions]),
      ids.map(() => [1, 1]),
      'the kill is an interruption, not an attempt: no event lost a try to it',
    );
    const saved = await db.db
      .select({ id: contacts.id, name: contacts.name })
      .from(contacts)
      .where(
        inArray(
          contacts.id,
          people.map((p) => p.id),
        ),
      );
    assert.deepEqual(saved.map((c) => c.name).sort(), people.map((p) => p.name).sort());
  });

  test('an event whose claims keep being interrupted is dead-lettered unrun; an interruption costs no attempt', async () => {
    const people = Array.from({ length: 4 }, (_, k) => ({ id: 7_300_000 + k, name: `P${k}` }));
    const ids = await queueContacts(db, people);
    // As a killed worker leaves them: 'processing' with an expired lease. The first was interrupted
    // four times before; this claim is its fifth.
    await db.db.execute(sql`
      update events set status = 'processing', attempts = 1, locked_by = 'gone', next_attempt_at = now() - interval '1 second',
             interruptions = case when id = ${ids[0]!} then ${MAX_INTERRUPTIONS - 1} else 0 end
       where id = any(${`{${ids.join(',')}}`}::bigint[])`);
    const w = worker(db, 'batch-after-crash');
    w.start();
    try {
      await until('all settled', async () =>
        (await statusOf(db, ids)).every((s) => s === 'processed' || s === 'dead'),
      );
    } finally {
      await w.stop();
    }
    const evs = (await db.db.select().from(events).where(inArray(events.id, ids))).sort(
      (a, b) => a.id - b.id,
    );
    assert.deepEqual(
      evs.map((e) => [e.status, e.attempts, e.interruptions]),
      [
        ['dead', 1, MAX_INTERRUPTIONS],
        ['processed', 1, 1],
        ['processed', 1, 1],
        ['processed', 1, 1],
      ],
    );
    assert.match(evs[0]!.lastError ?? '', /interrupted 5 times/);
    const fx = await db.db.select().from(effects).where(inArray(effects.eventId, ids));
    assert.deepEqual(
      fx.map((f) => f.eventId).sort((a, b) => a - b),
      ids.slice(1),
      'the dead-lettered event ran no handler',
    );
  });
});

describe('lanes: claimed events over the free slots', () => {
  const ev = (id: number) => ({ id });
  const shape = (l: ReturnType<typeof lanes<{ id: number }>>) =>
    l.map((lane) => lane.map((b) => b.map((e) => e.id)));

  test('a shallow queue runs one event per slot; a deep one in even batches', () => {
    assert.deepEqual(shape(lanes([ev(1), ev(2), ev(3)], 4)), [[[1]], [[2]], [[3]]]);
    const deep = Array.from({ length: 64 }, (_, i) => ev(i));
    assert.deepEqual(
      shape(lanes(deep, 4)).map((lane) => lane.map((b) => b.length)),
      [[16], [16], [16], [16]],
    );
  });

  test('there are never more lanes than free slots, nor a batch past what the claim gave a slot', () => {
    const l = lanes([ev(1), ev(2), ev(3), ev(4), ev(5), ev(6), ev(7)], 2);
    assert.equal(l.length, 2);
    assert.deepEqual(
      l
        .flat()
        .flat()
        .map((e) => e.id)
        .sort(),
      [1, 2, 3, 4, 5, 6, 7],
    );
    assert.deepEqual(shape(lanes([], 4)), []);
    // A full claim (4 slots × 16): no batch grows past 16.
    const l64 = lanes(
      Array.from({ length: 64 }, (_, i) => ev(i)),
      4,
    );
    assert.equal(l64.length, 4);
    assert.ok(
      l64.flat().every((b) => b.length <= 16),
      JSON.stringify(l64.flat().map((b) => b.length)),
    );
    assert.equal(l64.flat().flat().length, 64);
  });
});
