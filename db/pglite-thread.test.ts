import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { PGlite, types } from '@electric-sql/pglite';
import { PGliteThread } from './pglite-thread';

let thread: PGliteThread;
let local: PGlite;
before(async () => {
  thread = await PGliteThread.open('memory://');
  local = await PGlite.create('memory://');
  for (const db of [thread, local])
    await db.query(
      `create table t (id int primary key, at timestamptz, doc jsonb, big int8, raw bytea, tags text[],
         local_at timestamp, day date, span interval, ats timestamptz[], days date[], amounts numeric[])`,
    );
});
after(async () => {
  await thread.close();
  await local.close();
});

// What drizzle's driver passes on every query (drizzle-orm/pglite/session.js): dates, times and
// intervals and their arrays, and numeric[], kept as text. The thread's parser table keeps exactly
// these as text (db/pglite-worker.mjs), so a query asking for another set must still get that set.
const keep = (v: string) => v;
const drizzleOptions = {
  parsers: Object.fromEntries(
    [types.TIMESTAMP, types.TIMESTAMPTZ, types.INTERVAL, types.DATE, 1231, 1115, 1185, 1187, 1182].map(
      (oid) => [oid, keep],
    ),
  ),
};
const optionSets = {
  drizzle: drizzleOptions,
  'timestamps only': { parsers: { [types.TIMESTAMPTZ]: keep, [types.TIMESTAMP]: keep } },
  none: {},
};

test('rows come back as in-process PGlite gives them, in object and array mode, whichever types are kept as text', async () => {
  const insert = `insert into t values (1, '2026-12-01 10:00:00.123+00', '{"a":[1,"x"],"b":null}', 9007199254740993,
    '\\xdeadbeef', '{p,q}', '2026-12-01 10:00:00', '2026-12-01', '1 day 02:00:00', '{"2026-12-01 10:00:00+00"}',
    '{2026-12-01,2026-12-02}', '{1.50,2}') returning id`;
  for (const db of [thread, local]) await db.query(insert);
  const select =
    'select id, at, doc, big, raw, tags, local_at, day, span, ats, days, amounts from t where id = $1';
  for (const [name, options] of Object.entries(optionSets)) {
    for (const rowMode of ['object', 'array'] as const) {
      const a = await thread.query(select, [1], { ...options, rowMode });
      const b = await local.query(select, [1], { ...options, rowMode });
      assert.deepEqual(a.rows, b.rows, `${name}, ${rowMode}`);
      assert.deepEqual(
        a.fields.map((f) => [f.name, f.dataTypeID]),
        b.fields.map((f) => [f.name, f.dataTypeID]),
      );
    }
  }
  const [row] = (await thread.query<Record<string, unknown>>(select, [1], drizzleOptions)).rows;
  for (const col of ['at', 'local_at', 'day', 'span', 'ats', 'days', 'amounts'])
    assert.equal(typeof row![col], 'string', `${col} stays text, as drizzle asked`);
  const [parsed] = (await thread.query<Record<string, unknown>>(select, [1])).rows;
  assert.ok(parsed!.at instanceof Date, 'without parsers of its own, a query gets Dates');
  assert.ok(Array.isArray(parsed!.ats), 'and arrays');
  assert.equal((await thread.query('update t set big = 1 where id > 0')).affectedRows, 1);
});

test('a transaction commits when its function resolves and rolls back when it throws; other statements wait for it', async () => {
  await thread.transaction(async (tx) => {
    await tx.query('insert into t (id) values (10)');
  });
  await assert.rejects(
    thread.transaction(async (tx) => {
      await tx.query('insert into t (id) values (11)');
      throw new Error('handler failed');
    }),
    /handler failed/,
  );
  const ids = async () =>
    (await thread.query<{ id: number }>('select id from t where id >= 10 order by id')).rows.map((r) => r.id);
  assert.deepEqual(await ids(), [10]);

  // A statement sent while a transaction is open runs after it, never inside it.
  let outside: Promise<number[]> | undefined;
  await thread.transaction(async (tx) => {
    await tx.query('insert into t (id) values (12)');
    outside = ids();
    await new Promise((r) => setTimeout(r, 50));
    await tx.query('insert into t (id) values (13)');
  });
  assert.deepEqual(await outside, [10, 12, 13]);
});

test("a database error keeps its SQLSTATE and fields, not the statement's parameters; the connection goes on", async () => {
  const err: Error & { code?: string; constraint?: string } = await thread
    .query('insert into t (id, doc) values ($1, $2)', [10, '{"secret":"s3cr3t"}'])
    .catch((e) => e);
  assert.ok(err instanceof Error);
  assert.equal(err.code, '23505');
  assert.equal(err.constraint, 't_pkey');
  assert.ok(!JSON.stringify({ ...err, message: err.message }).includes('s3cr3t'));
  assert.equal((await thread.query<{ n: number }>('select 1 as n')).rows[0]!.n, 1);
});

test('a parser that changes the text is refused instead of dropped', async () => {
  await assert.rejects(
    thread.query('select 1', [], { parsers: { [types.INT4]: (v: string) => Number(v) } }),
    /must keep the text/,
  );
});

test('a long statement runs off the main thread: timers keep firing meanwhile', async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const started = performance.now();
  await thread.query('select count(*) from generate_series(1, 5000000)');
  const ms = performance.now() - started;
  clearInterval(timer);
  // Skipped where the statement is too quick for the comparison to mean anything.
  if (ms > 200) assert.ok(ticks >= (ms / 10) * 0.5, `${ticks} ticks in ${Math.round(ms)} ms`);
});

test("GIN pending lists are merged in small pieces, so a merge never holds the thread's other statements long", async () => {
  const { rows } = await thread.query<{ gin_pending_list_limit: string }>('show gin_pending_list_limit');
  assert.equal(rows[0]?.gin_pending_list_limit, '64kB');
  // A rolled-back transaction does not undo a setting made outside it.
  await thread
    .transaction(async () => {
      throw new Error('rolled back');
    })
    .catch(() => {});
  const again = await thread.query<{ gin_pending_list_limit: string }>('show gin_pending_list_limit');
  assert.equal(again.rows[0]?.gin_pending_list_limit, '64kB');
});

test('a statement is parsed once and its plan kept; past the limit the oldest is closed; a changed table is re-read', async () => {
  const select = 'select id from t where id = $1';
  for (let i = 0; i < 8; i++) await thread.query(select, [i]);
  const prepared = async (text: string) =>
    (
      await thread.query<{ n: number; runs: number }>(
        'select count(*)::int as n, coalesce(sum(generic_plans + custom_plans), 0)::int as runs from pg_prepared_statements where statement = $1',
        [text],
      )
    ).rows[0]!;
  assert.deepEqual(await prepared(select), { n: 1, runs: 8 }, 'one named statement, run eight times');

  // A parameter Postgres refuses fails in the bind, after the parse: the statement and the connection go on.
  const bad: Error & { code?: string } = await thread.query(select, ['not a number']).catch((e) => e);
  assert.equal(bad.code, '22P02');
  assert.deepEqual((await thread.query(select, [-1])).rows, []);
  await assert.rejects(
    thread.transaction(async (tx) => {
      await tx.query(select, ['still not a number']);
    }),
    (e: Error & { code?: string }) => e.code === '22P02',
  );
  assert.deepEqual((await thread.query<{ n: number }>('select 1 as n')).rows, [{ n: 1 }]);

  for (let i = 0; i < 250; i++) await thread.query(`select ${i} as n`);
  const total = (await thread.query<{ n: number }>('select count(*)::int as n from pg_prepared_statements'))
    .rows[0]!.n;
  assert.ok(total <= 201, `at most the limit stays prepared (${total})`);
  assert.equal((await prepared(select)).n, 0, 'the least recently used was closed');
  assert.deepEqual((await thread.query(select, [-1])).rows, [], 'and is prepared again when it returns');

  await thread.query('create table shape (a int)');
  await thread.query('insert into shape values (1)');
  assert.deepEqual((await thread.query('select * from shape')).rows, [{ a: 1 }]);
  await thread.query('alter table shape add column b int');
  assert.deepEqual((await thread.query('select * from shape')).rows, [{ a: 1, b: null }]);
});

test('after close, statements fail with a clear error', async () => {
  const other = await PGliteThread.open('memory://');
  await other.close();
  await assert.rejects(other.query('select 1'), /embedded database thread exited/);
});

test('a script that never closes its database still exits once its statements are answered', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pglite-thread-'));
  const file = path.join(dir, 'script.mts');
  writeFileSync(
    file,
    `import { PGliteThread } from ${JSON.stringify(path.resolve('db/pglite-thread.ts'))};
     const db = await PGliteThread.open('memory://');
     setTimeout(async () => {
       const r = await db.query('select 41 + 1 as n');
       await db.transaction((tx) => tx.query('select 1'));
       console.log('answer', r.rows[0].n);
     }, 100);`,
  );
  try {
    const run = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.signal, null, 'exited by itself, not killed by the timeout');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /answer 42/, 'the statement sent after start-up was answered before the exit');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a dump opens as a copy: its tables and rows are there, and the copy changes alone', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pglite-dump-'));
  const file = path.join(dir, 'copy.tar');
  const source = await PGliteThread.open('memory://');
  try {
    await source.query('create table kept (id int primary key, note text)');
    await source.query(`insert into kept values (1, 'before the dump')`);
    writeFileSync(file, await source.dump());
    const copy = await PGliteThread.open('memory://', { from: file });
    try {
      assert.deepEqual((await copy.query('select id, note from kept')).rows, [
        { id: 1, note: 'before the dump' },
      ]);
      await copy.query(`insert into kept values (2, 'in the copy')`);
      assert.equal((await copy.query('select * from kept')).rows.length, 2);
      assert.equal((await source.query('select * from kept')).rows.length, 1, 'the source is unchanged');
    } finally {
      await copy.close();
    }
  } finally {
    await source.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
