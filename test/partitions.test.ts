import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { type Db, rowsOf } from '@/db/client';
import { type IngestItem, ingestBatch, insertAckTimes } from '@/db/queries/ingest';
import { pruneOld } from '@/db/queries/maintenance';
import { ensureDayPartitions, listPartitions } from '@/db/queries/partitions';
import { indexReceiptBodies } from '@/db/queries/search';
import { openTestDb, type TestDb } from './helpers/db';
import { databaseBefore } from './helpers/db-before';

const DAY = 86_400_000;
const ymd = (t: number) => new Date(t).toISOString().slice(0, 10).replaceAll('-', '');
const startOfDay = (t: number) => Math.floor(t / DAY) * DAY;

let db: TestDb;
before(async () => {
  db = await openTestDb();
});
after(() => db.close());

const item = (receivedAt: Date, n: number): IngestItem => ({
  receipt: {
    source: 'skylightchat',
    provider: 'skylight',
    deliveryId: `p-${n}`,
    eventType: 'contact.updated',
    outcome: 'accepted',
    reason: null,
    ackMs: 2,
    receivedAt,
    headers: {},
    body: JSON.stringify({ n, text: `needle-${n}` }),
    bodyBytes: 20,
  },
});

/** The table each receipt (and its ack time, and its search copy) is stored in. */
async function homes(d: Db) {
  return rowsOf<{ id: number; r: string; a: string | null; s: string | null }>(
    await d.execute(sql`
      select r.id::int as id, r.tableoid::regclass::text as r,
             (select a.tableoid::regclass::text from receipt_acks a where a.receipt_id = r.id) as a,
             (select s.tableoid::regclass::text from receipt_search s where s.receipt_id = r.id) as s
        from receipts r order by r.id`),
  );
}

async function tables(d: Db, like: string) {
  return rowsOf<{ name: string }>(
    await d.execute(
      sql`select relname as name from pg_class where relname like ${like} and relkind = 'r' order by 1`,
    ),
  ).map((r) => r.name);
}

async function write(d: Db, at: Date[]) {
  const results = await ingestBatch(
    d,
    at.map((t, i) => item(t, Math.floor(Math.random() * 1e9) + i)),
  );
  await insertAckTimes(
    d,
    results.map((r, i) => ({ id: r.receiptId, receivedAt: at[i]!, ackMs: 7 })),
  );
  while ((await indexReceiptBodies(d, 200)) === 200) {}
  return results.map((r) => r.receiptId);
}

test('a new database has today and the next two days as tables, and a receipt, its ack time and its search copy land in its day', async () => {
  const today = startOfDay(Date.now());
  for (const t of ['receipts', 'receipt_search', 'receipt_acks'])
    for (const d of [0, 1, 2])
      assert.ok((await tables(db.db, `${t}_d%`)).includes(`${t}_d${ymd(today + d * DAY)}`));
  const [id] = await write(db.db, [new Date()]);
  const home = (await homes(db.db)).find((h) => h.id === id)!;
  assert.deepEqual(home, {
    id,
    r: `receipts_d${ymd(today)}`,
    a: `receipt_acks_d${ymd(today)}`,
    s: `receipt_search_d${ymd(today)}`,
  });
});

test('ensureDayPartitions creates missing days ahead and back once, and skips a day whose rows went to the default table', async () => {
  // A receipt from 40 days ago finds no day table: the default table keeps it.
  const stray = Date.now() - 40 * DAY;
  const [id] = await write(db.db, [new Date(stray)]);
  assert.equal((await homes(db.db)).find((h) => h.id === id)!.r, 'receipts_default');

  const first = await ensureDayPartitions(db.db, { from: new Date(Date.now() - 41 * DAY), aheadDays: 4 });
  // 41 days back through 4 ahead, three tables, less the 3 days that existed and the stray's day.
  assert.deepEqual(
    first.skipped.sort(),
    [`receipt_acks_d${ymd(stray)}`, `receipt_search_d${ymd(stray)}`, `receipts_d${ymd(stray)}`].sort(),
  );
  assert.equal(first.created, (41 + 4 + 1 - 3 - 1) * 3);
  const again = await ensureDayPartitions(db.db, { from: new Date(Date.now() - 41 * DAY), aheadDays: 4 });
  assert.equal(again.created, 0, 'idempotent');
  // Writes keep going to the right day, old days included.
  const [old] = await write(db.db, [new Date(Date.now() - 35 * DAY)]);
  assert.equal((await homes(db.db)).find((h) => h.id === old)!.r, `receipts_d${ymd(Date.now() - 35 * DAY)}`);
});

test('pruneOld drops whole days past retention with their ack times and search copies, deletes old strays, and keeps the rest', async () => {
  // The last is past retention, but its day is not over yet: kept with its whole day.
  const at = [
    Date.now() - 35 * DAY,
    Date.now() - 31.5 * DAY,
    Date.now() - 10 * DAY,
    Date.now(),
    startOfDay(Date.now() - 30 * DAY) + 1,
  ];
  const ids = await write(
    db.db,
    at.map((t) => new Date(t)),
  );
  const before = await homes(db.db);
  // As if a prune had died after detaching a day and dropping one of its indexes: the next one
  // drops the rest of it.
  const leftover = `receipts_d${ymd(at[0]!)}`;
  await db.db.execute(sql.raw(`alter table receipts detach partition ${leftover}`));
  const [parentIndexes] = rowsOf<{ n: number }>(
    await db.db.execute(sql`select count(*)::int as n from pg_indexes where tablename = 'receipts'`),
  );
  const [plain] = rowsOf<{ name: string }>(
    await db.db.execute(sql`
      select c.relname as name from pg_index i join pg_class c on c.oid = i.indexrelid
       where i.indrelid = ${leftover}::regclass
         and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)
       order by 1 limit 1`),
  );
  await db.db.execute(sql`drop index ${sql.identifier(plain!.name)}`);
  const pruned = await pruneOld(db.db, 30, { batch: 2 });
  assert.deepEqual(await tables(db.db, `receipts_d${ymd(at[0]!)}`), []);

  const gone = (t: string) => pruned.partitions.filter((p) => p.startsWith(`${t}_d`));
  assert.ok(gone('receipts').includes(`receipts_d${ymd(at[0]!)}`));
  assert.ok(gone('receipts').includes(`receipts_d${ymd(at[1]!)}`));
  assert.equal(gone('receipts').length, gone('receipt_acks').length);
  assert.equal(gone('receipts').length, gone('receipt_search').length);
  // Day tables whose day ended more than 30 days ago: none left.
  for (const p of await listPartitions(db.db)) assert.ok(p.until.getTime() > Date.now() - 30 * DAY, p.name);
  assert.ok((await tables(db.db, `receipts_d${ymd(at[2]!)}`)).length === 1, 'a newer day is kept');

  // The stray of the previous test (40 days old, in the default table) went row by row, ack and copy too.
  assert.equal(pruned.receipts, 1);
  const after = await homes(db.db);
  assert.deepEqual(
    after.map((h) => h.id),
    before.filter((h) => h.r !== 'receipts_default' && !pruned.partitions.includes(h.r)).map((h) => h.id),
  );
  assert.ok(after.some((h) => h.id === ids[2]) && after.some((h) => h.id === ids[3]));
  assert.deepEqual(
    after.find((h) => h.id === ids[4]),
    {
      id: ids[4],
      r: `receipts_d${ymd(at[4]!)}`,
      a: `receipt_acks_d${ymd(at[4]!)}`,
      s: `receipt_search_d${ymd(at[4]!)}`,
    },
    'a receipt in a day table is never deleted row by row',
  );
  for (const t of ['receipt_acks', 'receipt_search']) {
    const [n] = rowsOf<{ n: number }>(
      await db.db.execute(sql`select count(*)::int as n from ${sql.identifier(`${t}_default`)}`),
    );
    assert.equal(n!.n, 0, `${t}_default emptied`);
  }
  const [orphans] = rowsOf<{ n: number }>(
    await db.db.execute(sql`
      select (select count(*) from receipt_acks a where not exists (select 1 from receipts r where r.id = a.receipt_id))
           + (select count(*) from receipt_search s where not exists (select 1 from receipts r where r.id = s.receipt_id))
           as n`),
  );
  assert.equal(Number(orphans!.n), 0, 'no ack time or search copy outlives its receipt');
  // Each dropped table says what it cost; the one found detached needed no detach.
  assert.deepEqual(pruned.steps.map((s) => s.name).sort(), [...pruned.partitions].sort());
  // A day's receipts table goes index by index (its key's constraint among them), then the table.
  for (const step of pruned.steps) {
    const wasLeft = step.name === leftover;
    assert.equal(step.tries, wasLeft ? 0 : 1, step.name);
    assert.ok(step.dropMs >= 0 && (wasLeft ? step.detachMs === 0 : step.detachMs > 0), step.name);
    if (step.name.startsWith('receipts_d'))
      assert.equal(step.pieces, parentIndexes!.n + (wasLeft ? 0 : 1), step.name);
  }
  const again = await pruneOld(db.db, 30);
  assert.deepEqual(again, { partitions: [], deferred: [], steps: [], receipts: 0, events: 0 });
});

test('while a receipt write is open, days are made without waiting for it, and a detach that cannot get its lock gives way and is dropped by a later run', {
  skip: process.env.TEST_DATABASE_URL ? false : 'needs a second connection (Postgres)',
}, async () => {
  const client = postgres(db.url!, { max: 1, onnotice: () => {} });
  const open = await client.reserve();
  try {
    // A receipt write in flight: ROW EXCLUSIVE on receipts and today's table until it commits.
    await open`begin`;
    await open`insert into receipts (source, outcome, http_status, ack_ms, headers, body_bytes)
                 values ('skylightchat', 'rejected', 400, 1, '{}', 0)`;
    const expired = Date.now() - 35 * DAY;
    const made = await ensureDayPartitions(db.db, { from: new Date(expired), aheadDays: 8 });
    assert.deepEqual(made.busy, [], 'attaching a day does not wait for receipt writes');
    assert.ok(made.created >= 3 * 4, `created ${made.created}`);
    assert.equal((await tables(db.db, `receipts_d${ymd(Date.now() + 8 * DAY)}`)).length, 1);
    // Rows go to the new day's table, with the parent's key and indexes.
    const ahead = new Date(startOfDay(Date.now() + 8 * DAY) + 1000);
    const [id] = await write(db.db, [ahead]);
    assert.deepEqual(
      (await homes(db.db)).find((h) => h.id === id),
      {
        id,
        r: `receipts_d${ymd(ahead.getTime())}`,
        a: `receipt_acks_d${ymd(ahead.getTime())}`,
        s: `receipt_search_d${ymd(ahead.getTime())}`,
      },
    );
    const [indexes] = rowsOf<{ n: number }>(
      await db.db.execute(sql`select count(*)::int as n from pg_indexes
          where tablename in (${`receipts_d${ymd(ahead.getTime())}`}, ${`receipts_d${ymd(Date.now())}`})
          group by tablename having count(*) > 0 order by 1 limit 1`),
    );
    const [parentIndexes] = rowsOf<{ n: number }>(
      await db.db.execute(sql`select count(*)::int as n from pg_indexes where tablename = 'receipts'`),
    );
    assert.equal(indexes!.n, parentIndexes!.n, 'a day made by attaching has every index of the parent');

    // Detaching receipts' day needs ACCESS EXCLUSIVE on receipts: every try gives way to the write.
    const first = await pruneOld(db.db, 30, { lockTries: { timeoutsMs: [20, 20, 20], pauseMs: 10 } });
    assert.ok(first.deferred.includes(`receipts_d${ymd(expired)}`), first.deferred.join());
    assert.ok(
      first.deferred.every((t) => t.startsWith('receipts_d')),
      'only the locked table is deferred',
    );
    assert.ok(first.partitions.includes(`receipt_acks_d${ymd(expired)}`), 'siblings not locked: dropped');
    assert.equal(
      (await tables(db.db, `receipts_d${ymd(expired)}`)).length,
      1,
      'kept, attached, until a run gets the lock',
    );
    await open`commit`;
    const second = await pruneOld(db.db, 30);
    assert.deepEqual(second.deferred, []);
    assert.ok(second.partitions.includes(`receipts_d${ymd(expired)}`));
    assert.deepEqual(await tables(db.db, `receipts_d${ymd(expired)}`), []);
  } finally {
    await open`rollback`.catch(() => {});
    open.release();
    await client.end();
  }
});

test('upgrading a database with receipts keeps every receipt, its id sequence and its ack times, and prunes the old table by row until its range expires', async () => {
  const old = await databaseBefore('0018');
  const d = old.db;
  try {
    await d.execute(sql`
      insert into receipts (source, outcome, http_status, ack_ms, received_at, headers, body_bytes, body)
      select 'skylightchat', 'accepted', 200, 1, now() - make_interval(days => g) + interval '1 hour', '{}', 2,
             '{"old":' || g || '}'
        from generate_series(1, 40) g`);
    await d.execute(sql`insert into receipt_acks (receipt_id, ack_ms) select id, 9 from receipts`);
    // The highest ids already pruned: new ids must not reuse them.
    await d.execute(sql`delete from receipts where id > 38`);
    const today = startOfDay(Date.now());
    await old.upgrade();

    const upto = `receipts_upto_${ymd(today + DAY)}`;
    const rows = rowsOf<{ id: number; home: string; ack: number; acked: string }>(
      await d.execute(sql`
        select r.id::int as id, r.tableoid::regclass::text as home, a.ack_ms as ack, a.tableoid::regclass::text as acked
          from receipts r join receipt_acks a on a.receipt_id = r.id and a.received_at = r.received_at order by r.id`),
    );
    assert.equal(rows.length, 38, 'every receipt and its ack time, joined on the new key');
    assert.ok(
      rows.every(
        (r) => r.home === upto && r.ack === 9 && r.acked === `receipt_acks_upto_${ymd(today + DAY)}`,
      ),
    );
    // The old table's indexes were adopted, not built a second time: the key and the 7 others.
    const [ix] = rowsOf<{ n: number }>(
      await d.execute(sql`select count(*)::int as n from pg_indexes where tablename = ${upto}`),
    );
    assert.equal(ix!.n, 8);
    // New receipts go on from the old sequence, into tomorrow's day table (today's rows are in the old one).
    const [fresh] = await ingestBatch(d, [item(new Date(today + DAY + 1000), 1)]);
    assert.equal(fresh!.receiptId, 41);
    // The search copy is rebuilt from the first receipt.
    while ((await indexReceiptBodies(d, 10)) === 10) {}
    const [s] = rowsOf<{ n: number }>(await d.execute(sql`select count(*)::int as n from receipt_search`));
    assert.equal(s!.n, 39);

    const pruned = await pruneOld(d, 30, { batch: 4 });
    assert.deepEqual(pruned.partitions, [], 'the old table still holds days within retention');
    assert.equal(pruned.receipts, 8, 'days 31-38, row by row');
    const [left] = rowsOf<{ r: number; a: number; s: number }>(
      await d.execute(sql`select (select count(*)::int from receipts) as r, (select count(*)::int from receipt_acks) as a,
                                 (select count(*)::int from receipt_search) as s`),
    );
    assert.deepEqual(left, { r: 31, a: 30, s: 31 });
    // Once its whole range is past retention, the old table goes whole, with its siblings.
    const gone = await pruneOld(d, -2);
    for (const t of ['receipts', 'receipt_acks', 'receipt_search'])
      assert.ok(gone.partitions.includes(`${t}_upto_${ymd(today + DAY)}`), t);
  } finally {
    await old.close();
  }
});
