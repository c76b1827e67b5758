import { sql } from 'drizzle-orm';
import { type Db, rowsOf, type Tx } from '../client';
import { sqlState } from '../errors';

/**
 * The tables partitioned by UTC day on received_at (migration 0018). A day's three tables are created
 * together ahead of time and dropped together once past retention.
 */
export const DAY_PARTITIONED = ['receipts', 'receipt_search', 'receipt_acks'] as const;

/** Serialises partition changes between replicas (pg_advisory_xact_lock). */
const PARTITION_LOCK = 7_319_402_118;
/**
 * Creating or dropping a partition takes an ACCESS EXCLUSIVE lock on its parent, and waits behind a
 * long dashboard query holding a share lock while every new receipt waits behind it: giving up soon
 * and trying again next run keeps that wait short.
 */
const LOCK_TIMEOUT = '1s';
const DAY_MS = 86_400_000;

export type Partition = {
  table: (typeof DAY_PARTITIONED)[number];
  name: string;
  /** Start of the range; null: from the beginning (a table of rows stored before migration 0018). */
  from: Date | null;
  /** End of the range, exclusive. */
  until: Date;
  /** False for a table detached by a drop that did not finish (dropExpiredPartitions). */
  attached: boolean;
};

/** The day and "upto" tables of the day-partitioned tables, known by their names (not the DEFAULT ones). */
export async function listPartitions(db: Db): Promise<Partition[]> {
  const res = await db.execute(sql`
    select relname as name, relispartition as attached from pg_class
     where relnamespace = 'public'::regnamespace and relkind = 'r'
       and relname ~ '^(receipts|receipt_search|receipt_acks)_(d|upto_)[0-9]{8}$'
     order by relname`);
  return rowsOf<{ name: string; attached: boolean }>(res).map(({ name, attached }) => {
    const m = /^(receipts|receipt_search|receipt_acks)_(d|upto_)(\d{4})(\d{2})(\d{2})$/.exec(name)!;
    const table = m[1] as Partition['table'];
    const day = new Date(Date.UTC(Number(m[3]), Number(m[4]) - 1, Number(m[5])));
    return m[2] === 'd'
      ? { table, name, from: day, until: new Date(day.getTime() + DAY_MS), attached }
      : { table, name, from: null, until: day, attached };
  });
}

const ymd = (d: Date) => d.toISOString().slice(0, 10).replaceAll('-', '');
const bound = (d: Date) => sql.raw(`'${d.toISOString().slice(0, 10)} 00:00:00+00'`);
const startOfDay = (t: number) => Math.floor(t / DAY_MS) * DAY_MS;

type Change = 'done' | 'none' | 'busy';

/**
 * Runs one partition change in its own transaction, under the lock that serialises replicas and a
 * short lock_timeout; 'busy' when a table lock was not had in time (55P03), to try again next run.
 */
async function change(db: Db, run: (tx: Tx) => Promise<boolean>): Promise<Change> {
  try {
    return await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${PARTITION_LOCK})`);
      await tx.execute(sql.raw(`set local lock_timeout = '${LOCK_TIMEOUT}'`));
      return (await run(tx)) ? 'done' : 'none';
    });
  } catch (err) {
    if (sqlState(err) === '55P03') return 'busy';
    throw err;
  }
}

/** Whether `name` is attached as a partition now. */
const isPartition = async (tx: Tx, name: string) =>
  rowsOf(
    await tx.execute(sql`
      select 1 from pg_class where relname = ${name} and relnamespace = 'public'::regnamespace and relispartition`),
  ).length > 0;

/**
 * Creates the day partitions from the day of `from` through `aheadDays` days after today (UTC) that
 * do not exist yet. A day whose rows already landed in a DEFAULT partition (the app received before
 * the tables were made) cannot get its own table: it is `skipped`, and those rows are pruned row by
 * row (pruneOld). `busy`: a lock was not had in time; the next run makes them.
 */
export async function ensureDayPartitions(
  db: Db,
  { from = new Date(), aheadDays = 3 }: { from?: Date; aheadDays?: number } = {},
): Promise<{ created: number; skipped: string[]; busy: string[] }> {
  const covered = (await listPartitions(db)).filter((p) => p.attached);
  const last = startOfDay(Date.now()) + aheadDays * DAY_MS;
  let created = 0;
  const skipped: string[] = [];
  const busy: string[] = [];
  for (let t = startOfDay(from.getTime()); t <= last; t += DAY_MS) {
    const day = new Date(t);
    const next = new Date(t + DAY_MS);
    for (const table of DAY_PARTITIONED) {
      const isCovered = (p: Partition) =>
        p.table === table && (p.from?.getTime() ?? -Infinity) <= t && t < p.until.getTime();
      if (covered.some(isCovered)) continue;
      const name = `${table}_d${ymd(day)}`;
      let strays = false;
      const result = await change(db, async (tx) => {
        // Another replica may have made it while this one waited for the lock.
        if (await isPartition(tx, name)) return false;
        const found = await tx.execute(sql`
          select 1 from ${sql.identifier(`${table}_default`)}
           where received_at >= ${bound(day)} and received_at < ${bound(next)} limit 1`);
        strays = rowsOf(found).length > 0;
        if (strays) return false;
        await tx.execute(sql`
          create table ${sql.identifier(name)} partition of ${sql.identifier(table)}
            for values from (${bound(day)}) to (${bound(next)})`);
        return true;
      });
      if (result === 'done') created++;
      else if (result === 'busy') busy.push(name);
      else if (strays) skipped.push(name);
    }
  }
  return { created, skipped, busy };
}

/**
 * Drops the partitions whose whole range is older than `retentionDays` before the database's now,
 * a day's three tables together. Freed at once: no dead rows, no VACUUM. `busy`: not detached this
 * run (a lock was not had in time); the next run drops them.
 *
 * Each is detached first, then dropped: dropping a partition holds an ACCESS EXCLUSIVE lock on its
 * parent until the files are gone (hundreds of MB for a day), and every receipt write waits behind
 * it; detaching changes the catalog only. A table left detached by a crash between the two steps is
 * dropped on the next run.
 */
export async function dropExpiredPartitions(
  db: Db,
  retentionDays: number,
): Promise<{ dropped: string[]; busy: string[] }> {
  const [row] = rowsOf<{ cutoff: string | Date }>(
    await db.execute(sql`select now() - make_interval(days => ${Math.trunc(retentionDays)}::int) as cutoff`),
  );
  const cutoff = new Date(row!.cutoff).getTime();
  const dropped: string[] = [];
  const busy: string[] = [];
  for (const p of await listPartitions(db)) {
    if (p.until.getTime() > cutoff) continue;
    if (p.attached) {
      const detached = await change(db, async (tx) => {
        // Another replica may have detached it while this one waited for the lock.
        if (!(await isPartition(tx, p.name))) return false;
        await tx.execute(
          sql`alter table ${sql.identifier(p.table)} detach partition ${sql.identifier(p.name)}`,
        );
        return true;
      });
      if (detached === 'busy') {
        busy.push(p.name);
        continue;
      }
    }
    await db.execute(sql`drop table if exists ${sql.identifier(p.name)}`);
    dropped.push(p.name);
  }
  return { dropped, busy };
}
