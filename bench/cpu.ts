// CPU time of processes on this machine, for the benches that say which side a lever must make cheaper.
import { readdirSync, readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { type Queryable, rowsOf } from '@/db/client';

/**
 * CPU time (ms) of every process whose command or process group matches, from schedstat's run time
 * (nanoseconds): utime/stime are sampled per tick, and on this VM a Postgres backend that runs in
 * bursts of tens of microseconds showed 0 s after 18,000 inserts.
 */
export function cpuMs(match: (comm: string, pgrp: number) => boolean): number {
  let ns = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      // Fields after the command: state(0) ppid(1) pgrp(2) …
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (!match(comm, pgrp)) continue;
      // Threads too: a process's schedstat counts only its main thread.
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      }
    } catch {
      // The process exited meanwhile.
    }
  }
  return ns / 1e6;
}

/** Every Postgres process: backends, WAL writer, checkpointer, autovacuum. */
export const postgresCpuMs = () => cpuMs((c) => c === 'postgres' || c.startsWith('postgres:'));

/** CPU spent from now on by a server's process group and by every Postgres process: call to read. */
export function cpuSince(pgrp: number): () => { appMs: number; pgMs: number } {
  const app0 = cpuMs((_, g) => g === pgrp);
  const pg0 = postgresCpuMs();
  return () => ({ appMs: cpuMs((_, g) => g === pgrp) - app0, pgMs: postgresCpuMs() - pg0 });
}

/** WAL bytes written and Postgres CPU spent from now on (the whole server's): call the result to read. */
export async function writeCostSince(
  db: Queryable,
): Promise<() => Promise<{ walBytes: number; pgMs: number }>> {
  const lsn = async () =>
    String(rowsOf<{ lsn: string }>(await db.execute(sql`select pg_current_wal_lsn()::text as lsn`))[0]!.lsn);
  const lsn0 = await lsn();
  const pg0 = postgresCpuMs();
  return async () => {
    const pgMs = postgresCpuMs() - pg0;
    const [wal] = rowsOf<{ bytes: number }>(
      await db.execute(sql`select pg_wal_lsn_diff(${await lsn()}::pg_lsn, ${lsn0}::pg_lsn)::float8 as bytes`),
    );
    return { walBytes: Number(wal!.bytes), pgMs };
  };
}
