import { randomBytes } from 'node:crypto';
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
    const h = await openDb({ pgliteDir: 'memory://' });
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
