import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { type DbHandle, openDb } from '@/db/client';

export type TestDb = DbHandle & { name: string; url?: string };

/**
 * A fresh, migrated database for one test file: an in-memory PGlite by default, or a scratch
 * Postgres database (created and dropped here) when TEST_DATABASE_URL is set.
 */
export async function openTestDb(): Promise<TestDb> {
  const admin = process.env.TEST_DATABASE_URL;
  if (!admin) {
    const h = await openDb({ pgliteDir: 'memory://' });
    return { ...h, name: 'pglite' };
  }
  const name = `t_${randomBytes(6).toString('hex')}`;
  const sql = postgres(admin, { max: 1, onnotice: () => {} });
  await sql.unsafe(`create database ${name}`);
  await sql.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const h = await openDb({ url: url.toString(), max: 20 });
  return {
    ...h,
    name,
    url: url.toString(),
    close: async () => {
      await h.close();
      const s = postgres(admin, { max: 1, onnotice: () => {} });
      await s.unsafe(`drop database if exists ${name} with (force)`);
      await s.end();
    },
  };
}
