import { type Db, type DbHandle, openDb } from '@/db/client';
import { errorMessage } from '@/db/errors';
import { ensureDayPartitions } from '@/db/queries/partitions';
import { env } from '@/lib/env';
import { log } from '@/lib/log';

// The process's database as configured by the environment. db/ opens databases; this file decides
// which one the app uses, so db/ needs nothing from lib/.

type Shared = { handle?: Promise<DbHandle>; worker?: Promise<DbHandle>; receiver?: Promise<DbHandle> };
// Next may load this module in several bundles; keep one connection pool (one PGlite) per process.
const shared = ((globalThis as { __skylightDb?: Shared }).__skylightDb ??= {});

/** The process-wide database, opened and migrated on first use. */
export function getDbHandle(): Promise<DbHandle> {
  if (!shared.handle) {
    shared.handle = openDb({ url: env.DATABASE_URL, pgliteDir: env.PGLITE_DIR })
      .then(async (h) => {
        await ensureDays(h.db);
        return h;
      })
      .catch((err) => {
        shared.handle = undefined;
        throw err;
      });
    shared.handle.then((h) => log.info({ db: h.kind }, 'database ready')).catch(() => {});
  }
  return shared.handle;
}

/**
 * Today's and the next days' receipt tables, made before the first receipt arrives: after a few days
 * down (a PGlite install on a laptop), receipts arriving before the hourly job's first run would go to
 * the DEFAULT table and keep that day from getting its own (db/queries/partitions.ts). A failure
 * costs only that: the app starts anyway and the job tries again.
 */
export async function ensureDays(db: Db) {
  try {
    const { skipped, busy } = await ensureDayPartitions(db);
    if (skipped.length > 0)
      log.warn({ skipped }, 'day tables not created: their rows are in the default table');
    if (busy.length > 0) log.warn({ busy }, 'day tables not created yet: a lock was not had in time');
  } catch (err) {
    log.warn({ err: errorMessage(err) }, 'day tables not created');
  }
}

export async function getDb(): Promise<Db> {
  return (await getDbHandle()).db;
}

/**
 * The worker's database. On Postgres its own pool of prepared statements, so a batch's statements
 * travel in one pipeline (db/client.ts, preparedStatements) and the worker's transactions never wait
 * for a connection the receiver holds; on PGlite the process's one database.
 */
export function getWorkerDb(): Promise<Db> {
  // A transaction per slot, and one for the claim.
  return preparedPool('worker', env.WORKER_CONCURRENCY + 1);
}

/**
 * The receiver's database: on Postgres a pool of prepared statements (an accepted delivery's write
 * is one round trip instead of two), of its own so that a busy dashboard or worker cannot hold the
 * connections a provider's delivery waits for; on PGlite the process's one database.
 */
export function getReceiverDb(): Promise<Db> {
  // The group commit's transactions in flight (4), the refusal and ack-time writers.
  return preparedPool('receiver', 6);
}

async function preparedPool(name: 'worker' | 'receiver', max: number): Promise<Db> {
  const main = await getDbHandle();
  if (main.kind !== 'postgres') return main.db;
  shared[name] ??= openDb({ url: env.DATABASE_URL, migrate: false, prepared: true, max }).catch((err) => {
    shared[name] = undefined;
    throw err;
  });
  return (await shared[name]).db;
}

export async function closeDb() {
  const handles = [shared.worker, shared.receiver, shared.handle];
  shared.worker = undefined;
  shared.receiver = undefined;
  shared.handle = undefined;
  for (const h of handles) if (h) await (await h).close();
}
