import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { openDb } from './client';
import { lockPgliteFolder, PgliteFolderInUseError } from './pglite-folder';

const root = mkdtempSync(path.join(tmpdir(), 'pglite-folder-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Every entry under `dir` whose mode lets group or others in, as "mode path". */
function loose(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.mode & 0o077) out.push(`${(st.mode & 0o777).toString(8)} ${p}`);
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(path.join(p, e));
  };
  walk(dir);
  return out;
}

test('a new PGlite folder and its parents are 0700, and nothing in it is readable by others', async () => {
  const parent = path.join(root, 'fresh', '.data');
  const dir = path.join(parent, 'pglite');
  const h = await openDb({ pgliteDir: dir });
  await h.db.execute(sql`create table secrets_here (v text)`);
  await h.db.execute(sql`insert into secrets_here values ('hash')`);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(parent).mode & 0o777, 0o700);
  assert.equal(statSync(`${dir}.lock`).mode & 0o777, 0o600);
  await h.close();
  assert.deepEqual(loose(dir), []);
  assert.equal(existsSync(`${dir}.lock`), false, 'the lock is released on close');
});

test('an existing folder left world-readable is tightened at open', async () => {
  const dir = path.join(root, 'loose');
  const h0 = await openDb({ pgliteDir: dir });
  await h0.close();
  chmodSync(dir, 0o755);
  writeFileSync(path.join(dir, 'stray'), 'x', { mode: 0o666 });
  chmodSync(path.join(dir, 'stray'), 0o666);
  assert.notDeepEqual(loose(dir), []);
  const h = await openDb({ pgliteDir: dir });
  // Files PGlite creates while it runs sit behind the 0700 folder; close tightens them too.
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(path.join(dir, 'stray')).mode & 0o777, 0o600);
  await h.close();
  assert.deepEqual(loose(dir), []);
});

test('a second open of a folder in use is refused with the owner named, and works once it is closed', async () => {
  const dir = path.join(root, 'busy');
  const h = await openDb({ pgliteDir: dir });
  await assert.rejects(openDb({ pgliteDir: dir }), (err: unknown) => {
    assert.ok(err instanceof PgliteFolderInUseError);
    assert.match(err.message, new RegExp(`in use by process ${process.pid}`));
    return true;
  });
  // The refused open changed nothing: the first handle still works.
  await h.db.execute(sql`select 1`);
  await h.close();
  const again = await openDb({ pgliteDir: dir });
  await again.close();
});

test('a lock held by another live process refuses; one left by a dead or reused pid is taken over', async () => {
  const dir = path.join(root, 'locks');
  mkdirSync(dir);
  const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    const pid = other.pid!;
    writeFileSync(`${dir}.lock`, `${pid}\n`);
    assert.throws(() => lockPgliteFolder(dir), new RegExp(`in use by process ${pid}\\b`));
    // Same pid, another start time: the pid was reused after the owner died.
    writeFileSync(`${dir}.lock`, `${pid} 1\n`);
    lockPgliteFolder(dir)();
  } finally {
    other.kill('SIGKILL');
  }
  const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)']).stdout.toString().trim();
  writeFileSync(`${dir}.lock`, `${dead}\n`);
  const release = lockPgliteFolder(dir);
  assert.match(readFileSync(`${dir}.lock`, 'utf8'), new RegExp(`^${process.pid} `));
  release();
  assert.equal(existsSync(`${dir}.lock`), false);
  writeFileSync(`${dir}.lock`, 'garbage');
  lockPgliteFolder(dir)();
});
