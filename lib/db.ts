import { type Db, type DbHandle, openDb } from '@/db/client';
import { env } from '@/lib/env';
import { log } from '@/lib/log';

// The process's database as configured by the environment. db/ opens databases; this file decides
// which one the app uses, so db/ needs nothing from lib/.

type Shared = { handle?: Promise<DbHandle> };
// Next may load this module in several bundles; keep one connection pool (one PGlite) per process.
const shared = ((globalThis as { __skylightDb?: Shared }).__skylightDb ??= {});

/** The process-wide database, opened and migrated on first use. */
export function getDbHandle(): Promise<DbHandle> {
  if (!shared.handle) {
    shared.handle = openDb({ url: env.DATABASE_URL, pgliteDir: env.PGLITE_DIR }).catch((err) => {
      shared.handle = undefined;
      throw err;
    });
    shared.handle.then((h) => log.info({ db: h.kind }, 'database ready')).catch(() => {});
  }
  return shared.handle;
}

export async function getDb(): Promise<Db> {
  return (await getDbHandle()).db;
}

export async function closeDb() {
  const h = shared.handle;
  shared.handle = undefined;
  if (h) await (await h).close();
}
