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
 * How a partition change waits for its table locks: each try waits at most `timeoutsMs[i]`
 * (lock_timeout), then gives way for `pauseMs`; after the last try the table is left for the next run.
 *
 * Why short tries: detaching a day takes an ACCESS EXCLUSIVE lock on its parent, and while it waits
 * for that lock (behind a dashboard query or the search indexer's batch) every receipt write queues
 * behind it. One wait of up to 1 s stalled the receiver for as long (bench/levers.md: detaches that
 * waited 0.3–0.7 s); short tries bound that stall to the longest try.
 */
export type LockTries = { timeoutsMs: number[]; pauseMs: number };
export const LOCK_TRIES: LockTries = { timeoutsMs: [50, 50, 100, 100, 200, 200, 400, 400], pauseMs: 500 };
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

/**
 * One dropped table: the tries its detach took (0: it was detached already), the last try's time,
 * and the drop's (its pieces, the pauses between them included).
 */
export type DropStep = { name: string; tries: number; detachMs: number; dropMs: number; pieces: number };

/**
 * After a piece of a detached table is dropped (an index, then the table), the next waits 2 ms per
 * MB it freed. Why: on a file system that discards freed blocks (ext4 `-o discard`, this machine's),
 * freeing 1.3 GB at once held every other commit's WAL flush for up to 100–130 ms; the same 1.3 GB as
 * 4 tables dropped 1 s apart held them no longer than the load's own worst (bench/levers.md).
 */
const PAUSE_MS_PER_MB = 2;

/** Drops a detached day table piece by piece: each index (or the constraint it backs), then the table. */
async function dropInPieces(db: Db, name: string, paced: boolean): Promise<number> {
  const table = sql.identifier(name);
  const pieces = paced
    ? rowsOf<{ index: string; constraint: string | null; bytes: number }>(
        await db.execute(sql`
          select c.relname as index, k.conname as constraint, pg_relation_size(i.indexrelid)::float8 as bytes
            from pg_index i join pg_class c on c.oid = i.indexrelid
            left join pg_constraint k on k.conindid = i.indexrelid and k.conrelid = i.indrelid
           where i.indrelid = to_regclass(${`public.${name}`})
           order by bytes desc`),
      )
    : [];
  const pause = (bytes: number) => new Promise((r) => setTimeout(r, (bytes / 1_048_576) * PAUSE_MS_PER_MB));
  for (const p of pieces) {
    // Another replica may be dropping the same table: every step is "if exists".
    await db.execute(
      p.constraint
        ? sql`alter table if exists ${table} drop constraint if exists ${sql.identifier(p.constraint)}`
        : sql`drop index if exists ${sql.identifier(p.index)}`,
    );
    await pause(p.bytes);
  }
  await db.execute(sql`drop table if exists ${table}`);
  return pieces.length + 1;
}

type Change = { outcome: 'done' | 'none' | 'busy'; tries: number; ms: number };

/**
 * Runs one partition change in its own transaction, under the lock that serialises replicas and a
 * short lock_timeout, try after try (LockTries); 'busy' when a table lock was not had in any try
 * (55P03), to try again next run. `ms`: how long the last try took, lock wait included.
 */
async function change(db: Db, tries: LockTries, run: (tx: Tx) => Promise<boolean>): Promise<Change> {
  for (const [i, timeoutMs] of tries.timeoutsMs.entries()) {
    const started = performance.now();
    try {
      const done = await db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(${PARTITION_LOCK})`);
        await tx.execute(sql.raw(`set local lock_timeout = ${Math.max(1, Math.trunc(timeoutMs))}`));
        return run(tx);
      });
      return { outcome: done ? 'done' : 'none', tries: i + 1, ms: performance.now() - started };
    } catch (err) {
      if (sqlState(err) !== '55P03') throw err;
      if (i < tries.timeoutsMs.length - 1) await new Promise((r) => setTimeout(r, tries.pauseMs));
    }
  }
  return { outcome: 'busy', tries: tries.timeoutsMs.length, ms: 0 };
}

/** Whether a table named `name` exists, and whether it is attached as a partition now. */
async function tableState(tx: Tx, name: string): Promise<'absent' | 'attached' | 'detached'> {
  const [row] = rowsOf<{ attached: boolean }>(
    await tx.execute(sql`
      select relispartition as attached from pg_class
       where relname = ${name} and relnamespace = 'public'::regnamespace and relkind = 'r'`),
  );
  return row === undefined ? 'absent' : row.attached ? 'attached' : 'detached';
}

/**
 * Creates the day partitions from the day of `from` through `aheadDays` days after today (UTC) that
 * do not exist yet. A day whose rows already landed in a DEFAULT partition (the app received before
 * the tables were made) cannot get its own table: it is `skipped`, and those rows are pruned row by
 * row (pruneOld). `busy`: a lock was not had in time; the next run makes them.
 *
 * A day is made as a plain table and then attached: ATTACH takes a SHARE UPDATE EXCLUSIVE lock on
 * the parent, which receipt writes do not wait for, where `CREATE TABLE … PARTITION OF` would take
 * an ACCESS EXCLUSIVE one (it still locks the DEFAULT table, which it checks holds no row of the day).
 */
export async function ensureDayPartitions(
  db: Db,
  {
    from = new Date(),
    aheadDays = 3,
    lockTries = LOCK_TRIES,
  }: { from?: Date; aheadDays?: number; lockTries?: LockTries } = {},
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
      const { outcome } = await change(db, lockTries, async (tx) => {
        // Another replica may have made it while this one waited for the lock; a detached one is a
        // drop's leftover, not ours to attach again.
        if ((await tableState(tx, name)) !== 'absent') return false;
        const found = await tx.execute(sql`
          select 1 from ${sql.identifier(`${table}_default`)}
           where received_at >= ${bound(day)} and received_at < ${bound(next)} limit 1`);
        strays = rowsOf(found).length > 0;
        if (strays) return false;
        // Columns, defaults and checks as the parent's; ATTACH adds the parent's indexes and key.
        await tx.execute(sql`
          create table ${sql.identifier(name)} (like ${sql.identifier(table)} including all excluding indexes)`);
        await tx.execute(sql`
          alter table ${sql.identifier(table)} attach partition ${sql.identifier(name)}
            for values from (${bound(day)}) to (${bound(next)})`);
        return true;
      });
      if (outcome === 'done') created++;
      else if (outcome === 'busy') busy.push(name);
      else if (strays) skipped.push(name);
    }
  }
  return { created, skipped, busy };
}

/**
 * Drops the partitions whose whole range is older than `retentionDays` before the database's now,
 * a day's three tables together. Freed at once: no dead rows, no VACUUM. `busy`: not detached this
 * run (a lock was not had in any try); the next run drops them. `steps`: what each table cost (the
 * retention bench reports them, bench/retention.ts).
 *
 * Each is detached first, then dropped: dropping a partition holds an ACCESS EXCLUSIVE lock on its
 * parent until the files are gone (hundreds of MB for a day), and every receipt write waits behind
 * it; detaching takes the same lock for a catalog change only, asked for in short tries (LockTries).
 * The detached table is then dropped in paced pieces (`paced`, PAUSE_MS_PER_MB; off: at once). A
 * table left detached, whole or in part, by a crash between the steps is dropped on the next run.
 */
export async function dropExpiredPartitions(
  db: Db,
  retentionDays: number,
  { lockTries = LOCK_TRIES, paced = true }: { lockTries?: LockTries; paced?: boolean } = {},
): Promise<{ dropped: string[]; busy: string[]; steps: DropStep[] }> {
  const [row] = rowsOf<{ cutoff: string | Date }>(
    await db.execute(sql`select now() - make_interval(days => ${Math.trunc(retentionDays)}::int) as cutoff`),
  );
  const cutoff = new Date(row!.cutoff).getTime();
  const busy: string[] = [];
  const steps: DropStep[] = [];
  for (const p of await listPartitions(db)) {
    if (p.until.getTime() > cutoff) continue;
    let detach: Change = { outcome: 'none', tries: 0, ms: 0 };
    if (p.attached) {
      detach = await change(db, lockTries, async (tx) => {
        // Another replica may have detached it while this one waited for the lock.
        if ((await tableState(tx, p.name)) !== 'attached') return false;
        await tx.execute(
          sql`alter table ${sql.identifier(p.table)} detach partition ${sql.identifier(p.name)}`,
        );
        return true;
      });
      if (detach.outcome === 'busy') {
        busy.push(p.name);
        continue;
      }
    }
    const started = performance.now();
    const pieces = await dropInPieces(db, p.name, paced);
    steps.push({
      name: p.name,
      tries: detach.tries,
      detachMs: detach.ms,
      dropMs: performance.now() - started,
      pieces,
    });
  }
  return { dropped: steps.map((s) => s.name), busy, steps };
}
