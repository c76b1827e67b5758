import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { Db } from '@/db/client';
import { PGliteThread } from '@/db/pglite-thread';

/**
 * A database migrated up to the migration tagged `tag` (a copy of the migrations folder whose journal
 * stops before it), on the server the suite runs against (Postgres when TEST_DATABASE_URL is set);
 * `upgrade()` runs the rest.
 */
export async function databaseBefore(tag: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'migrations-'));
  cpSync(path.join(process.cwd(), 'db', 'migrations'), dir, { recursive: true });
  const journalFile = path.join(dir, 'meta', '_journal.json');
  const full = readFileSync(journalFile, 'utf8');
  const journal = JSON.parse(full);
  journal.entries = journal.entries.filter((e: { tag: string }) => e.tag < tag);
  writeFileSync(journalFile, JSON.stringify(journal));
  const admin = process.env.TEST_DATABASE_URL;
  let d: Db;
  let migrateTo: () => Promise<void>;
  let close: () => Promise<void>;
  if (admin) {
    const name = `t_upgrade_${Math.random().toString(36).slice(2, 10)}`;
    const a = postgres(admin, { max: 1, onnotice: () => {} });
    await a.unsafe(`create database ${name}`);
    const url = new URL(admin);
    url.pathname = `/${name}`;
    const client = postgres(url.toString(), { max: 1, onnotice: () => {} });
    d = drizzlePostgres(client) as unknown as Db;
    migrateTo = () => migratePostgres(d as never, { migrationsFolder: dir });
    close = async () => {
      await client.end();
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    };
  } else {
    const client = await PGliteThread.open('memory://');
    d = drizzle(client.asPGlite()) as unknown as Db;
    migrateTo = () => migrate(d as never, { migrationsFolder: dir });
    close = () => client.close();
  }
  await migrateTo();
  return {
    db: d,
    async upgrade() {
      writeFileSync(journalFile, full);
      await migrateTo();
    },
    async close() {
      await close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
