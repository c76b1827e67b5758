import assert from 'node:assert/strict';
import { fsyncSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { DURABLE_START_PARAMS, DurableNodeFS } from './pglite-durable.mjs';
import { PGliteThread } from './pglite-thread';

const settings = async (db: { query: PGlite['query'] }) =>
  Object.fromEntries(
    (
      await db.query<{ name: string; setting: string }>(
        `select name, setting from pg_settings where name in ('fsync', 'wal_sync_method')`,
      )
    ).rows.map((r) => [r.name, r.setting]),
  );

test('on a folder, each commit is flushed to the disk (fsync) before it is answered', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pglite-durable-'));
  const calls: number[] = [];
  const db = await PGlite.create({
    fs: new DurableNodeFS(dir, (fd: number) => {
      calls.push(fd);
      fsyncSync(fd);
    }),
    startParams: DURABLE_START_PARAMS,
  });
  try {
    assert.deepEqual(await settings(db), { fsync: 'on', wal_sync_method: 'fsync' });
    await db.exec('create table t (id int)');
    for (let i = 0; i < 10; i++) {
      const before = calls.length;
      await db.query('insert into t values ($1)', [i]);
      assert.ok(calls.length > before, `commit ${i} returned without an fsync`);
    }
    // Statements that write nothing need no flush.
    const before = calls.length;
    await db.query('select count(*) from t');
    assert.equal(calls.length, before);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a commit whose fsync fails is refused, not answered as done', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pglite-durable-'));
  let failing = false;
  const db = await PGlite.create({
    fs: new DurableNodeFS(dir, (fd: number) => {
      if (failing) throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO', errno: -5 });
      fsyncSync(fd);
    }),
    startParams: DURABLE_START_PARAMS,
  });
  await db.exec('create table t (id int)');
  failing = true;
  await assert.rejects(db.query('insert into t values (1)'), /could not fsync file .*I\/O error/);
  // Postgres stops after a failed fsync (PANIC), as a server would; this instance answers nothing more,
  // so it is left unclosed.
  rmSync(dir, { recursive: true, force: true });
});

test("the app's PGlite thread opens a folder with fsync on, and memory without", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pglite-durable-'));
  const onDisk = await PGliteThread.open(dir);
  const inMemory = await PGliteThread.open('memory://');
  try {
    assert.deepEqual(await settings(onDisk), { fsync: 'on', wal_sync_method: 'fsync' });
    assert.equal((await settings(inMemory)).fsync, 'off');
  } finally {
    await onDisk.close();
    await inMemory.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
