import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { type Db, openDb, rowsOf } from '@/db/client';
import { type Histogram, percentiles, total } from '@/db/histogram';
import { ingestBatch } from '@/db/queries/ingest';
import { pruneOld, vacuumTables } from '@/db/queries/maintenance';
import { latencyHistogram } from '@/db/queries/metrics';
import { writeRollups } from '@/db/queries/rollups';
import { events, fingerprints, receiptRollups, receipts } from '@/db/schema';
import { rollupsJob } from '@/lib/jobs';
import { latencyOverTime } from '@/lib/metrics/dashboard';
import { RollupBuffer } from '@/lib/metrics/rollup-buffer';
import { GroupCommit } from '@/lib/receiver/group-commit';
import { openTestDb, type TestDb } from './helpers/db';
import { post, signedDelivery } from './helpers/deliveries';
import { startReceiverServer } from './helpers/receiver-server';

const SECRET = 'durability-secret';
let db: TestDb;
before(async () => {
  db = await openTestDb();
});
after(() => db.close());

test('database unreachable: 503 with Retry-After quickly, never 500, and the attempt is kept for recording', async () => {
  // A real Postgres client pointed at a port where nothing listens: connection refused.
  // Prepared, as the receiver's own pool is in the app (lib/db.ts getReceiverDb).
  const dead = await openDb({ url: 'postgres://nobody@127.0.0.1:1/none', migrate: false, prepared: true });
  const s = await startReceiverServer({
    secrets: [SECRET],
    worker: false,
    db: { ...dead, name: 'dead', prepared: dead.db },
  });
  try {
    const d = signedDelivery(SECRET);
    const t0 = Date.now();
    const r = await post(s.url, d);
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('retry-after'), '5');
    assert.equal((r.json as { error: { code: string } }).error.code, 'unavailable');
    assert.ok(Date.now() - t0 < 5000, 'answered within the connect timeout');
    assert.equal(s.recorder.pending, 1, 'the refused request waits in the recorder for the database');
  } finally {
    await s.close();
  }
});

const item = (deliveryId: string, fingerprint: string, payloadText = '{"data":{}}') => ({
  receipt: {
    source: 'skylightchat',
    provider: 'skylight',
    outcome: 'accepted' as const,
    headers: {},
    bodyBytes: 2,
    ackMs: 1,
    deliveryId,
    eventType: 'contact.created',
  },
  event: {
    source: 'skylightchat',
    provider: 'skylight',
    deliveryId,
    eventType: 'contact.created',
    fingerprint,
    payloadText,
    providerTs: null,
  },
});

const rowsFor = async (deliveryId: string, fingerprint: string) => ({
  events: (await db.db.select().from(events).where(eq(events.deliveryId, deliveryId))).length,
  receipts: (await db.db.select().from(receipts).where(eq(receipts.deliveryId, deliveryId))).length,
  fingerprints: (await db.db.select().from(fingerprints).where(eq(fingerprints.fingerprint, fingerprint)))
    .length,
});

test('a batch the database refuses in part leaves nothing of it half-written', async () => {
  // The batch is one statement: the unstorable payload (\u0000) fails it before anything is kept.
  await assert.rejects(
    ingestBatch(db.db, [item('atomic-1', 'fp-atomic-1'), item('atomic-2', 'fp-atomic-2', '{"s":"\\u0000"}')]),
  );
  assert.deepEqual(await rowsFor('atomic-1', 'fp-atomic-1'), { events: 0, receipts: 0, fingerprints: 0 });
  assert.deepEqual(await rowsFor('atomic-2', 'fp-atomic-2'), { events: 0, receipts: 0, fingerprints: 0 });
});

test('two in-flight batches carry one delivery_id with different content: one event, no orphan fingerprint', {
  skip: process.env.TEST_DATABASE_URL ? false : 'needs concurrent connections (Postgres)',
}, async () => {
  let release!: () => void;
  let written!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const firstWritten = new Promise<void>((r) => (written = r));
  // The first batch's rows stay uncommitted until the gate opens.
  const first = db.db.transaction(async (tx) => {
    await ingestBatch(tx, [item('race-1', 'fp-race-a')]);
    written();
    await gate;
  });
  await firstWritten;
  const commit = new GroupCommit(async () => db.db);
  const second = commit.submit(item('race-1', 'fp-race-b'));
  // The second batch claims its fingerprint, then waits on the first one's delivery_id.
  await new Promise((r) => setTimeout(r, 200));
  release();
  await first;
  const r = await second;
  assert.equal(r.outcome, 'duplicate');
  assert.equal(r.reason, 'delivery_id');
  const [owner] = await db.db.select().from(events).where(eq(events.deliveryId, 'race-1'));
  assert.equal(r.eventId, owner?.id);
  assert.equal(owner?.fingerprint, 'fp-race-a');
  assert.deepEqual(await rowsFor('race-1', 'fp-race-b'), { events: 1, receipts: 2, fingerprints: 0 });
});

test('drain waits for an ack-time write already under way, and writes what is still queued', async () => {
  const [a] = await ingestBatch(db.db, [item('drain-ack-1', 'fp-drain-ack-1')]);
  const [b] = await ingestBatch(db.db, [item('drain-ack-2', 'fp-drain-ack-2')]);
  const receivedAt = async (id: number) =>
    (await db.db.select({ t: receipts.receivedAt }).from(receipts).where(eq(receipts.id, id)))[0]!.t;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let writes = 0;
  // The first ack-time write stalls on its connection until the gate opens; later ones do not.
  const commit = new GroupCommit(async () => {
    if (writes++ === 0) await gate;
    return db.db;
  });
  commit.recordAck(a!.receiptId, await receivedAt(a!.receiptId), 7.5);
  await new Promise((r) => setTimeout(r, 400)); // the 250-ms timer has started the first write
  commit.recordAck(b!.receiptId, await receivedAt(b!.receiptId), 8.5);
  let drained = false;
  const drain = commit.drain().then(() => (drained = true));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(drained, false, 'drain returned while the first write was still under way');
  release();
  await drain;
  const acks = rowsOf<{ receipt_id: string; ack_ms: number }>(
    await db.db.execute(
      sql`select receipt_id, ack_ms from receipt_acks where receipt_id in (${a!.receiptId}, ${b!.receiptId}) order by receipt_id`,
    ),
  );
  assert.deepEqual(
    acks.map((r) => [Number(r.receipt_id), Number(r.ack_ms)]),
    [
      [a!.receiptId, 7.5],
      [b!.receiptId, 8.5],
    ],
  );
});

test('fingerprints expire after 24 hours: the same content becomes a new event', async () => {
  const s = await startReceiverServer({ secrets: [SECRET], worker: false, db });
  try {
    const data = { contact: { id: 424242, name: 'Window' } };
    const a = signedDelivery(SECRET, { data, timestamp: Math.floor(Date.now() / 1000) });
    await post(s.url, a);
    await db.db.execute(sql`update fingerprints set created_at = now() - interval '25 hours'`);
    const b = signedDelivery(SECRET, { data, timestamp: Math.floor(Date.now() / 1000) });
    assert.equal((await post(s.url, b)).json?.duplicate, false);
  } finally {
    await s.close();
  }
});

test('rollups: counts and percentiles match the raw rows, tiers agree, and repeated writes add up', async () => {
  const s = await startReceiverServer({ secrets: [SECRET], worker: false, db });
  try {
    for (let i = 0; i < 30; i++) await post(s.url, signedDelivery(SECRET, { event: 'contact.updated' }));
    await writeRollups(db.db, s.rollups.take());
    for (let i = 0; i < 10; i++) await post(s.url, signedDelivery(SECRET, { event: 'contact.updated' }));
    await s.commit.drain();
    await writeRollups(db.db, s.rollups.take());
    const rolled = await db.db
      .select()
      .from(receiptRollups)
      .where(eq(receiptRollups.eventType, 'contact.updated'));
    assert.equal(
      rolled.reduce((n, r) => n + Number(r.count), 0),
      40,
    );
    const range = { from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000) };
    const byType = await latencyHistogram(db.db, 'ack', { ...range, event_type: 'contact.updated' });
    assert.equal(total(byType), 40);
    // The all-types tier holds at least these 40 (other tests in this file post too).
    assert.ok(total(await latencyHistogram(db.db, 'ack', range)) >= 40);
    const raw = rowsOf<{ p50: number }>(
      await db.db.execute(
        sql`select percentile_disc(0.5) within group (order by coalesce(a.ack_ms, r.ack_ms))::float8 as p50
              from receipts r left join receipt_acks a on a.receipt_id = r.id where r.event_type = 'contact.updated'`,
      ),
    )[0]!.p50;
    const [p50] = percentiles(byType, [0.5]);
    assert.ok(Math.abs(p50! - raw) / raw <= 0.02, `${p50} vs ${raw}`);
    // The percentiles stored per tier row are recomputed by the merging upserts; the chart reads them.
    const tiers = rowsOf<{ ack_hist: Histogram; ack_pcts: number[] }>(
      await db.db.execute(
        sql`select ack_hist, ack_pcts from latency_rollups where event_type = 'contact.updated'`,
      ),
    );
    const round = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
    assert.ok(tiers.length >= 2, 'minute and hour rows');
    for (const t of tiers)
      assert.deepEqual(t.ack_pcts.map(round), percentiles(t.ack_hist, [0.5, 0.95, 0.99]).map(round));
    const chart = await latencyOverTime(db.db, 'ack', { ...range, event_type: 'contact.updated' });
    assert.equal(chart.bucketS, 60);
    assert.equal(
      chart.points.reduce((n, p) => n + p.count, 0),
      40,
    );
  } finally {
    await s.close();
  }
});

test('the rollups job: a failed write is written on the next tick, a COMMIT whose answer was lost is not written twice', async () => {
  const b = new RollupBuffer();
  const job = rollupsJob(b);
  const at = new Date('2026-01-01T00:10:30Z');
  const add = (eventType: string) =>
    b.add({ receivedAt: at, source: 'skylightchat', eventType, outcome: 'accepted', ackMs: 5, lagMs: 100 });
  const count = async (eventType: string) =>
    rowsOf<{ n: number }>(
      await db.db.execute(
        sql`select coalesce(sum(count), 0)::int as n from receipt_rollups where event_type = ${eventType}`,
      ),
    )[0]!.n;
  // The database refuses before anything is written; then it commits and the connection drops.
  const refused = {
    transaction: async () => Promise.reject(new Error('connection refused')),
  } as unknown as Db;
  const lostAnswer = {
    transaction: async (fn: Parameters<Db['transaction']>[0]) => {
      await db.db.transaction(fn);
      throw new Error('connection lost after COMMIT');
    },
  } as unknown as Db;

  add('x.refused');
  await assert.rejects(job.run(refused), /connection refused/);
  add('x.refused');
  await job.run(db.db);
  assert.equal(await count('x.refused'), 2, 'the kept batch and the new cells, once each');

  add('x.lost');
  add('x.lost');
  await assert.rejects(job.run(lostAnswer), /lost after COMMIT/);
  assert.equal(await count('x.lost'), 2, 'the COMMIT went through');
  add('x.after');
  await job.run(db.db);
  assert.equal(await count('x.lost'), 2, 'the retry found its id and added nothing');
  assert.equal(await count('x.after'), 1);
  const ids = rowsOf<{ n: number }>(
    await db.db.execute(sql`select count(*)::int as n from rollup_writes`),
  )[0]!;
  assert.ok(ids.n >= 3);
});

/** All receipts, and those older than a 30-day retention. */
async function receiptAges() {
  return rowsOf<{ n: number; old: number }>(
    await db.db.execute(
      sql`select count(*)::int as n, count(*) filter (where received_at < now() - interval '30 days')::int as old from receipts`,
    ),
  )[0]!;
}

test('pruning removes everything past retention in one run, batch after batch, and nothing newer', async () => {
  await db.db.execute(sql`update receipts set received_at = now() - interval '40 days' where id % 2 = 0`);
  const before = await receiptAges();
  assert.ok(before.old > 6, 'several batches of old receipts');
  const pruned = await pruneOld(db.db, 30, { batch: 3 });
  assert.equal(pruned.receipts, before.old);
  const after = await receiptAges();
  assert.equal(after.n, before.n - before.old);
  assert.equal(after.old, 0);
});

test("fingerprint retention deletes only expired keys: another source's live key of the same content stays", async () => {
  await db.db.insert(fingerprints).values([
    {
      source: 'prune-a',
      fingerprint: 'fp-prune-shared',
      eventId: 1,
      createdAt: new Date(Date.now() - 25 * 3_600_000),
    },
    {
      source: 'prune-b',
      fingerprint: 'fp-prune-shared',
      eventId: 2,
      createdAt: new Date(Date.now() - 3_600_000),
    },
  ]);
  await pruneOld(db.db, 30, { fingerprintHours: 24 });
  const left = await db.db
    .select({ source: fingerprints.source })
    .from(fingerprints)
    .where(eq(fingerprints.fingerprint, 'fp-prune-shared'));
  assert.deepEqual(
    left.map((r) => r.source),
    ['prune-b'],
  );
});

test('vacuumTables leaves alone the tables nothing changed since their last vacuum (PGlite runs it)', {
  skip: process.env.TEST_DATABASE_URL ? 'the job runs on PGlite only (servers autovacuum)' : false,
}, async () => {
  // Statistics reach the shared counters at most once a second unless a flush is forced.
  const flush = () => db.db.execute(sql`select pg_stat_force_next_flush()`);
  await db.db.execute(sql`create table vacuum_probe (id int primary key, v text)`);
  await db.db.execute(sql`insert into vacuum_probe select g, 'x' from generate_series(1, 100) g`);
  await flush();
  const count = async () =>
    Number(
      rowsOf<{ n: number }>(
        await db.db.execute(
          sql`select vacuum_count as n from pg_stat_user_tables where relname = 'vacuum_probe'`,
        ),
      )[0]!.n,
    );
  const vacuum = async (all = false) => {
    await vacuumTables(db.db, { analyze: false, all });
    await flush();
  };
  await vacuum();
  assert.equal(await count(), 1, 'changed: vacuumed');
  await vacuum();
  assert.equal(await count(), 1, 'unchanged: left alone');
  await vacuum(true);
  assert.equal(await count(), 2, 'all: after a start');
  await db.db.execute(sql`delete from vacuum_probe where id < 10`);
  await flush();
  await vacuum();
  assert.equal(await count(), 3, 'dead rows: vacuumed again');
  await db.db.execute(sql`drop table vacuum_probe`);
});

test('vacuumTables sets the visibility map and the planner statistics the queue gauges rely on', async () => {
  // Dead row versions on every page, for the vacuum to clear.
  await db.db.execute(sql`update events set last_error = null`);
  await vacuumTables(db.db, { analyze: true });
  const [ev] = rowsOf<{ pages: number; visible: number; tuples: number; rows: number }>(
    await db.db.execute(sql`
      select relpages as pages, relallvisible as visible, reltuples::int as tuples,
             (select count(*)::int from events) as rows
        from pg_class where oid = 'events'::regclass`),
  );
  assert.ok(ev!.rows > 0);
  assert.equal(ev!.visible, ev!.pages, 'every page all-visible: counts read the index alone');
  assert.equal(ev!.tuples, ev!.rows);
});
