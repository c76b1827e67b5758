import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';

// Databases for the fault tests: scratch databases on the shared server, and a private cluster a
// test may stop and start at will.

/** Superuser connection to the shared server (trust auth). */
export const ADMIN_URL = process.env.FAULTS_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

export async function pgReachable(url = ADMIN_URL): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

export type ScratchDb = { name: string; url: string; sql: postgres.Sql; drop(): Promise<void> };

/** A new empty database `faults_<random>` (the app migrates it on start); drop() removes it. */
export async function createScratchDb(adminUrl = ADMIN_URL): Promise<ScratchDb> {
  const name = `faults_${Math.random().toString(36).slice(2, 10)}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const sql = postgres(url, { max: 4, onnotice: () => {} });
  return {
    name,
    url,
    sql,
    drop: async () => {
      await sql.end({ timeout: 2 }).catch(() => {});
      const a = postgres(adminUrl, { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await a.end();
      }
    },
  };
}

const PG_BIN = process.env.FAULTS_PG_BIN || '/usr/lib/postgresql/15/bin';

export type Cluster = {
  dir: string;
  port: number;
  url: string;
  start(): void;
  /** `pg_ctl stop -m immediate`: every connection dropped, no shutdown checkpoint. */
  stopImmediate(): void;
  destroy(): void;
};

/** Postgres refuses to run as root: run its tools as the postgres user when we are root. */
function asPostgres(cmd: string, args: string[]) {
  const root = process.getuid?.() === 0;
  const [file, argv] = root ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  const r = spawnSync(file, argv, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.stdout || r.error}`);
  return r.stdout;
}

export function pgBinariesAvailable(): boolean {
  return spawnSync(path.join(PG_BIN, 'initdb'), ['--version']).status === 0;
}

const clusters = new Set<Cluster>();
process.once('exit', () => {
  for (const c of clusters) c.destroy();
});

/** initdb into a temp folder (trust auth, 127.0.0.1:<port>), not started yet; destroyed at exit too. */
export function createCluster(port: number): Cluster {
  const dir = mkdtempSync(path.join(tmpdir(), 'faults-pg-'));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const data = path.join(dir, 'data');
  asPostgres(path.join(PG_BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const opts = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c max_connections=100`;
  const cluster: Cluster = {
    dir,
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: () => {
      asPostgres(path.join(PG_BIN, 'pg_ctl'), [
        '-D',
        data,
        '-o',
        opts,
        '-l',
        path.join(dir, 'log'),
        '-w',
        'start',
      ]);
    },
    stopImmediate: () => {
      asPostgres(path.join(PG_BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
    },
    destroy: () => {
      if (!clusters.delete(cluster)) return;
      try {
        asPostgres(path.join(PG_BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {}
      rmSync(dir, { recursive: true, force: true });
    },
  };
  clusters.add(cluster);
  return cluster;
}
