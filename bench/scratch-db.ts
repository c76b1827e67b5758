import postgres from 'postgres';

export const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const created = new Set<string>();

export function dbUrl(name: string) {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(ADMIN_URL, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Creates a scratch database; its name must start with bench_ (they are dropped at the end). */
export async function createScratch(name: string): Promise<string> {
  if (!/^bench_[a-z0-9_]+$/.test(name)) throw new Error(`bad scratch database name ${name}`);
  await admin((sql) => sql.unsafe(`create database ${name}`));
  created.add(name);
  return dbUrl(name);
}

export async function dropScratch(name: string) {
  await admin((sql) => sql.unsafe(`drop database if exists ${name} with (force)`));
  created.delete(name);
}

export async function dropAllScratch() {
  for (const name of [...created]) await dropScratch(name).catch(() => {});
}

export async function serverVersion(): Promise<string> {
  return admin(async (sql) => {
    const [r] = await sql<{ v: string }[]>`select current_setting('server_version') as v`;
    return r!.v;
  });
}
