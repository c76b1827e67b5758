import { type SQL, sql } from 'drizzle-orm';
import { type Queryable, rowsOf } from '../client';

/** Content search over receipt bodies: text anywhere, or a JSON path equal to a value. */
export type ContentFilter = { text?: string; path?: string; value?: string };

/** Counting a backlog stops here: the answer says "at least this many". */
const COUNT_CAP = 100_000;
/**
 * Receipt ids are taken when a transaction starts, so one may commit after a higher id was indexed.
 * Each batch looks again this far below the highest indexed id for rows that were not visible yet;
 * later ones than that (one process has 1,024 ids in flight, each replica as many again) are the
 * sweep's (sweepLateReceipts).
 */
const LATE_COMMIT_MARGIN = 1000;

const HIGH_WATER = sql`(select coalesce(max(receipt_id), 0) from receipt_search)`;

/** LIKE pattern for "contains", with `%`, `_` and `\` in the input taken literally. */
export const containsPattern = (s: string) => `%${s.replace(/[\\%_]/g, '\\$&')}%`;

/**
 * The jsonb documents `path = value` means for `@>`: `data.contact.email` + `a@b.test` is
 * `{"data":{"contact":{"email":"a@b.test"}}}`. A value that reads as a JSON number, boolean or null
 * also matches that typed value (`data.contact.id = 4242` finds the number 4242 and the string).
 * Containment is exact on object keys; an array along the path does not match (`tags = x` is not
 * "tags contains x").
 */
export function pathDocuments(path: string, value: string): string[] {
  // Built as text around the leaf: a number goes to Postgres as written, and jsonb compares numbers
  // exactly (through JSON.parse, 9007199254740993 became …992 and 1e400 Infinity, then null).
  const keys = path.split('.');
  const wrap = (leafJson: string) =>
    keys.reduceRight((inner, key) => `{${JSON.stringify(key)}:${inner}}`, leafJson);
  const docs = [wrap(JSON.stringify(value))];
  if (JSON_LITERAL.test(value)) docs.push(wrap(value));
  return docs;
}

/**
 * A JSON number, boolean or null, as its text (what `value=` also matches typed). An exponent of 5+
 * digits is past what Postgres's numeric holds (the cast failed, a 500): such a value is text only.
 */
const JSON_LITERAL = /^(?:-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]{1,4})?|true|false|null)$/;

function conditions(f: ContentFilter): SQL[] {
  const out: SQL[] = [];
  if (f.text) out.push(sql`s.doc ilike ${containsPattern(f.text)}`);
  if (f.path && f.value !== undefined) {
    const docs = pathDocuments(f.path, f.value).map((d) => sql`s.payload @> ${d}::jsonb`);
    out.push(sql`(${sql.join(docs, sql` or `)})`);
  }
  return out;
}

/**
 * Keys (id, received_at) of the receipts whose body matches, through receipt_search's trigram and
 * jsonb_path_ops GIN indexes; the whole key, so each match is looked up in its own day's table, not
 * in every day's. A plain IN, so the planner may walk receipts newest first and stop at a page (a common
 * word) or collect the few matches from an index (a rare one). Receipts the indexer has not reached
 * yet (normally the last second) are not found; searchProgress says how many.
 */
export function matchingReceiptKeys(f: ContentFilter): SQL {
  return sql`select s.receipt_id, s.received_at from receipt_search s where ${sql.join(conditions(f), sql` and `)}`;
}

export const hasContentFilter = (f: ContentFilter) => Boolean(f.text || (f.path && f.value !== undefined));

/**
 * How far the search index has got: the highest receipt indexed, and how many newer receipts with a
 * body wait (counted up to COUNT_CAP).
 */
export async function searchProgress(db: Queryable): Promise<{ indexed_through: number; unindexed: number }> {
  const [r] = rowsOf<{ hi: string | number; n: string | number }>(
    await db.execute(sql`
      with w as (select ${HIGH_WATER} as hi)
      select w.hi, (select count(*) from (select 1 from receipts r where r.id > w.hi and r.body is not null
                                          limit ${COUNT_CAP}) x) as n
        from w`),
  );
  return { indexed_through: Number(r?.hi ?? 0), unindexed: Number(r?.n ?? 0) };
}

/**
 * Copies the next batch of receipt bodies into receipt_search (the background job's step, off the
 * receiver's path). Idempotent across replicas: a row indexed twice is kept once. Returns how many
 * rows it indexed; fewer than `batch` means it has caught up.
 */
export async function indexReceiptBodies(db: Queryable, batch = 2000): Promise<number> {
  // The bound is read first and sent as a value. As a subquery inside the statement it was unknown
  // to the planner, which guessed that a third of every day table's rows qualify and read day tables
  // whose rows are not stored in id order (rewritten by an UPDATE) whole, on every batch: 0.9–1.4 s
  // for 400 bodies against 54–87 ms with the value, which shows that no row of an older day
  // qualifies. The bound is repeated on receipt_search: without it the anti-join hashed every copy
  // of every day table (125–172 ms of a batch's execution at 330,000 copies, against 11 ms with it).
  // Both measured in bench/levers.md.
  const lo = (await highWater(db)) - LATE_COMMIT_MARGIN;
  return copyBodies(db, sql`r.id > ${lo}::bigint`, sql`s.receipt_id > ${lo}::bigint`, batch);
}

async function highWater(db: Queryable): Promise<number> {
  const [hw] = rowsOf<{ hi: string | number }>(await db.execute(sql`select ${HIGH_WATER} as hi`));
  return Number(hw?.hi ?? 0);
}

/**
 * Copies into receipt_search the bodies of the receipts `rows` selects (`r`) that have no copy yet,
 * `batch` at most, in id order; `copies` bounds the copies looked at (`s`). Returns how many.
 */
async function copyBodies(db: Queryable, rows: SQL, copies: SQL, batch: number): Promise<number> {
  const res = await db.execute(sql`
    with ins as (
      insert into receipt_search (receipt_id, received_at, doc, payload)
      select r.id, r.received_at, r.body, try_jsonb(r.body) from receipts r
       where ${rows} and r.body is not null
         and not exists (
           select 1 from receipt_search s
            where ${copies} and s.receipt_id = r.id and s.received_at = r.received_at)
       order by r.id
       limit ${batch}
      on conflict (receipt_id, received_at) do nothing
      returning 1)
    select count(*)::int as n from ins`);
  return Number(rowsOf<{ n: number }>(res)[0]?.n ?? 0);
}

/**
 * Indexes receipts received in the last `windowSeconds` that the batches above passed by: ids more
 * than LATE_COMMIT_MARGIN below the highest indexed one, committed after it was indexed (a group
 * commit that outlived its deadline, several replicas' batches in flight). A receipt commits within
 * the statement timeout of its arrival, so a window well past that, swept more often than it lasts,
 * sees each one. Returns how many it indexed (normally none).
 */
export async function sweepLateReceipts(db: Queryable, windowSeconds: number, batch = 2000): Promise<number> {
  const lo = (await highWater(db)) - LATE_COMMIT_MARGIN;
  const since = sql`now() - make_interval(secs => ${windowSeconds}::int)`;
  return copyBodies(
    db,
    sql`r.received_at > ${since} and r.id <= ${lo}::bigint`,
    sql`s.received_at > ${since}`,
    batch,
  );
}
