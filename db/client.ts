import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { lockPgliteFolder, makeFolderPrivate } from './pglite-folder';
import { PGliteThread } from './pglite-thread';
import * as schema from './schema';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Anything a query function can run on: the database or an open transaction. */
export type Queryable = Db | Tx;

export type DbHandle = {
  db: Db;
  kind: 'pglite' | 'postgres';
  close: () => Promise<void>;
  /** PGlite in memory: the data folder as a tar, for OpenOptions.pgliteFrom. */
  dump?: () => Promise<Uint8Array>;
};

const MIGRATIONS = path.join(process.cwd(), 'db', 'migrations');
// Any fixed number works; it only has to be the same in every replica.
const MIGRATION_LOCK = 727_274_001;

export type OpenOptions = {
  url?: string;
  pgliteDir?: string;
  migrate?: boolean;
  max?: number;
  /** Postgres: every statement a named prepared statement (see preparedStatements). */
  prepared?: boolean;
  /** PGlite in memory: start as the copy in this file (PGliteThread.dump) instead of an empty cluster. */
  pgliteFrom?: string;
};

/** Opens a database (Postgres when a URL is given, else PGlite in a folder) and applies migrations. */
export async function openDb(opts: OpenOptions = {}): Promise<DbHandle> {
  const handle = opts.url
    ? openPostgres(opts.url, opts.max, opts.prepared)
    : await openPglite(opts.pgliteDir!, opts.pgliteFrom);
  if (opts.migrate !== false) await applyMigrations(handle, opts.url);
  return handle;
}

function openPostgres(url: string, max = 10, prepared = false): DbHandle {
  const client = postgres(url, {
    max,
    connect_timeout: 3,
    idle_timeout: 30,
    // Fail fast while the database is down instead of queueing requests behind dead connections.
    max_lifetime: 60 * 30,
    // Reconnect attempts wait at most 0.5 s. postgres.js's default backoff grows with every failed
    // connect (up to 20 s) and a query waits that long before its connection even tries, so a short
    // outage left requests hanging instead of failing fast with 503.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 0.5),
    onnotice: () => {},
    // A lock held by a migration or a CREATE INDEX must not hold the receiver past the provider's
    // 30 s timeout: after 3 s the statement fails (55P03), the receiver answers 503 and the provider
    // retries; a handler's transaction fails the same way and is retried with backoff.
    connection: {
      application_name: 'skylight-webhook-ops',
      statement_timeout: 15_000,
      lock_timeout: 3000,
      // A prepared statement is planned for its parameters every time: after five runs Postgres
      // would switch to a generic plan, which made the receiver's write 23 % slower (BENCHMARKS.md).
      ...(prepared ? { plan_cache_mode: 'force_custom_plan' } : {}),
    },
  });
  const db = drizzlePostgres(prepared ? preparedStatements(client) : client, { schema }) as unknown as Db;
  return { db, kind: 'postgres', close: () => client.end({ timeout: 5 }) };
}

/**
 * A client whose statements are all named prepared statements, in its transactions too. postgres.js
 * sends an unprepared statement with parameters in two round trips (it asks for the parameter types
 * first) and holds every later statement of the connection until it is answered; a prepared one,
 * once a connection knows it, goes out at once, so statements sent without waiting travel in one
 * pipeline (the worker's batches, BENCHMARKS.md issue #19). Only for a fixed set of statement texts:
 * each connection keeps every text it has seen until it is recycled (max_lifetime).
 */
function preparedStatements(client: postgres.Sql): postgres.Sql {
  return new Proxy(client, {
    get(target, key) {
      if (key === 'unsafe') {
        return (query: string, params?: never[], o?: postgres.UnsafeQueryOptions) =>
          target.unsafe(query, params, { ...o, prepare: true });
      }
      if (key === 'begin') {
        return (...args: unknown[]) => {
          const fn = args.pop() as (tx: postgres.TransactionSql) => unknown;
          return (target.begin as (...a: unknown[]) => unknown)(...args, (tx: postgres.TransactionSql) =>
            fn(preparedStatements(tx as unknown as postgres.Sql) as unknown as postgres.TransactionSql),
          );
        };
      }
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** PGlite on a thread of its own (db/pglite-thread.ts), in a folder or in memory (`memory://`). */
async function openPglite(dir: string, from?: string): Promise<DbHandle> {
  if (dir.startsWith('memory://')) {
    const client = await PGliteThread.open(dir, { from });
    return {
      db: drizzlePglite(client.asPGlite(), { schema }) as unknown as Db,
      kind: 'pglite',
      close: () => client.close(),
      dump: () => client.dump(),
    };
  }
  if (from) throw new Error('pgliteFrom: only an in-memory database starts from a copy');
  const folder = path.resolve(dir);
  // The lock comes first (beside the folder, so its parent must exist): tightening modes or opening a
  // folder another process is writing is harm.
  mkdirSync(path.dirname(folder), { recursive: true, mode: 0o700 });
  const unlock = lockPgliteFolder(folder);
  try {
    makeFolderPrivate(folder);
    const client = await PGliteThread.open(folder);
    const db = drizzlePglite(client.asPGlite(), { schema }) as unknown as Db;
    const close = async () => {
      try {
        await client.close();
        makeFolderPrivate(folder);
      } finally {
        unlock();
      }
    };
    return { db, kind: 'pglite', close };
  } catch (err) {
    unlock();
    throw err;
  }
}

async function applyMigrations(handle: DbHandle, url?: string) {
  if (handle.kind === 'pglite') {
    await migratePglite(handle.db as never, { migrationsFolder: MIGRATIONS });
    return;
  }
  // Several replicas may start at once: serialise migrations with an advisory lock on one connection.
  const lockClient = postgres(url!, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await lockClient`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migratePostgres(drizzlePostgres(lockClient), { migrationsFolder: MIGRATIONS });
    await lockClient`select pg_advisory_unlock(${MIGRATION_LOCK})`;
  } finally {
    await lockClient.end({ timeout: 5 });
  }
}

/** Rows of a raw `execute` result: postgres.js returns an array, PGlite an object with `rows`. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

export async function ping(db: Db): Promise<void> {
  await db.execute(sql`select 1`);
}
