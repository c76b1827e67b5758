import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { type Db, type DbHandle, openDb } from '@/db/client';

export type TestDb = DbHandle & {
  name: string;
  url?: string;
  /**
   * What the worker and the receiver run on, as in the app (lib/db.ts getWorkerDb, getReceiverDb): a
   * pool of prepared statements on Postgres, the one database on PGlite.
   */
  prepared: Db;
};

/**
 * A fresh, migrated database for one test file: an in-memory PGlite by default, or a scratch
 * Postgres database (created and dropped here) when TEST_DATABASE_URL is set.
 */
export async function openTestDb(): Promise<TestDb> {
  const admin = process.env.TEST_DATABASE_URL;
  if (!admin) {
    const h = await openMigratedPglite();
    return { ...h, name: 'pglite', prepared: h.db };
  }
  const name = `t_${randomBytes(6).toString('hex')}`;
  const sql = postgres(admin, { max: 1, onnotice: () => {} });
  await sql.unsafe(`create database ${name}`);
  await sql.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const h = await openDb({ url: url.toString(), max: 20 });
  const w = await openDb({ url: url.toString(), max: 10, migrate: false, prepared: true });
  return {
    ...h,
    name,
    url: url.toString(),
    prepared: w.db,
    close: async () => {
      await w.close();
      await h.close();
      const s = postgres(admin, { max: 1, onnotice: () => {} });
      await s.unsafe(`drop database if exists ${name} with (force)`);
      await s.end();
    },
  };
}

/** The migrations' part of the template's name, read once per process (it reads every migration). */
let migrationsKey: string | undefined;

/**
 * An in-memory PGlite, migrated. A new cluster costs about 4 s of CPU (PGlite's initdb) and the
 * migrations half a second more; the PGlite test run opens dozens and is CPU-bound on two cores. So
 * the first open in a run dumps the migrated database to a file in the temp folder, named by the
 * PGlite version, the migrations' contents and the UTC day, and later opens (in any test process) start from that
 * copy, under a second. Migrations still run on the copy: drizzle finds them applied and does nothing.
 */
async function openMigratedPglite(): Promise<DbHandle> {
  // The migrations make the receipts' day tables from the day they run: a template is a day's, and the
  // day is read at every open (a run that crosses midnight moves to a new one).
  migrationsKey ??= templateKey();
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '');
  const template = path.join(tmpdir(), `skylight-test-pglite-${migrationsKey}-${day}.tar`);
  if (existsSync(template)) return openDb({ pgliteDir: 'memory://', pgliteFrom: template });
  const h = await openDb({ pgliteDir: 'memory://' });
  // Another test process may write the same file at the same moment: each writes its own and renames
  // it into place, so a reader never sees half a file.
  const partial = `${template}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(partial, await h.dump!());
  renameSync(partial, template);
  removeOldTemplates(template);
  return h;
}

/** Templates of other migrations, a day old or more (43 MB each; a new one is made per schema change). */
function removeOldTemplates(keep: string) {
  const dir = path.dirname(keep);
  for (const f of readdirSync(dir)) {
    const p = path.join(dir, f);
    if (!f.startsWith('skylight-test-pglite-') || p === keep) continue;
    try {
      if (Date.now() - statSync(p).mtimeMs > 86_400_000) rmSync(p, { force: true });
    } catch {
      // Another process removed it first.
    }
  }
}

function templateKey(): string {
  const hash = createHash('sha256');

  const pglite = path.join(process.cwd(), 'node_modules', '@electric-sql', 'pglite', 'package.json');
  hash.update(JSON.parse(readFileSync(pglite, 'utf8')).version);
  const migrations = path.join(process.cwd(), 'db', 'migrations');
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else hash.update(path.relative(migrations, p)).update(readFileSync(p));
    }
  };
  walk(migrations);
  return hash.digest('hex').slice(0, 16);
}
