import { type SQL, sql } from 'drizzle-orm';
import { type Queryable, rowsOf } from '../client';

/** Content search over receipt bodies: text anywhere, or a JSON path equal to a value. */
export type ContentFilter = { text?: string; path?: string; value?: string };

/**
 * A bulk indexer that fell far behind must not turn every search into a scan of the backlog: past
 * this many newest receipts, unindexed ones are left out and the answer says how many.
 */
const TAIL_LIMIT = 50_000;
/**
 * Receipt ids are taken when a transaction starts, so one may commit after a higher id was indexed.
 * Each batch looks again this far below the highest indexed id for rows that were not visible yet.
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
  const wrap = (leaf: unknown) =>
    JSON.stringify(
      path
        .split('.')
        .reverse()
        .reduce<unknown>((inner, key) => ({ [key]: inner }), leaf),
    );
  const docs = [wrap(value)];
  let typed: unknown;
  try {
    typed = JSON.parse(value);
  } catch {
    typed = undefined;
  }
  if (typed === null || typeof typed === 'number' || typeof typed === 'boolean') docs.push(wrap(typed));
  return docs;
}

function conditions(f: ContentFilter, doc: SQL, json: SQL): SQL[] {
  const out: SQL[] = [];
  if (f.text) out.push(sql`${doc} ilike ${containsPattern(f.text)}`);
  if (f.path && f.value !== undefined) {
    const docs = pathDocuments(f.path, f.value).map((d) => sql`${json} @> ${d}::jsonb`);
    out.push(sql`(${sql.join(docs, sql` or `)})`);
  }
  return out;
}

/**
 * Ids of the receipts whose body matches: the indexed copies (trigram and jsonb_path_ops GIN
 * indexes) plus the few newest receipts the indexer has not reached yet, read directly.
 */
export function matchingReceiptIds(f: ContentFilter): SQL {
  const indexed = conditions(f, sql`s.doc`, sql`s.payload`);
  const tail = conditions(f, sql`r.body`, sql`try_jsonb(r.body)`);
  return sql`select s.receipt_id from receipt_search s where ${sql.join(indexed, sql` and `)}
    union all
    select r.id from receipts r
     where r.id > greatest(${HIGH_WATER}, (select coalesce(max(id), 0) from receipts) - ${TAIL_LIMIT})
       and r.body is not null and ${sql.join(tail, sql` and `)}`;
}

export const hasContentFilter = (f: ContentFilter) => Boolean(f.text || (f.path && f.value !== undefined));

/**
 * How far the search index has got: the highest receipt indexed and how many newer receipts with a
 * body are not yet (those within the newest TAIL_LIMIT are still searched, directly).
 */
export async function searchProgress(
  db: Queryable,
): Promise<{ indexed_through: number; unindexed: number; complete: boolean }> {
  const [r] = rowsOf<{ hi: string | number; n: string | number; top: string | number }>(
    await db.execute(sql`
      with w as (select ${HIGH_WATER} as hi)
      select w.hi, (select coalesce(max(id), 0) from receipts) as top,
             (select count(*) from (select 1 from receipts r where r.id > w.hi and r.body is not null
                                     limit ${TAIL_LIMIT + 1}) x) as n
        from w`),
  );
  const hi = Number(r?.hi ?? 0);
  const unindexed = Number(r?.n ?? 0);
  return { indexed_through: hi, unindexed, complete: Number(r?.top ?? 0) - hi <= TAIL_LIMIT };
}

/**
 * Copies the next batch of receipt bodies into receipt_search (the background job's step, off the
 * receiver's path). Idempotent across replicas: a row indexed twice is kept once. Returns how many
 * rows it indexed; fewer than `batch` means it has caught up.
 */
export async function indexReceiptBodies(db: Queryable, batch = 2000): Promise<number> {
  const res = await db.execute(sql`
    with ins as (
      insert into receipt_search (receipt_id, doc, payload)
      select r.id, r.body, try_jsonb(r.body) from receipts r
       where r.id > ${HIGH_WATER} - ${LATE_COMMIT_MARGIN} and r.body is not null
         and not exists (select 1 from receipt_search s where s.receipt_id = r.id)
       order by r.id
       limit ${batch}
      on conflict (receipt_id) do nothing
      returning 1)
    select count(*)::int as n from ins`);
  return Number(rowsOf<{ n: number }>(res)[0]?.n ?? 0);
}
