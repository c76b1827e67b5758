/**
 * Keyset paging on the SQL side: lists are ordered by id descending and fetched with `limit + 1`
 * rows, so the next page is `id < nextId`; no OFFSET, stable under inserts. The API turns `nextId`
 * into an opaque cursor (lib/api/cursor.ts).
 */
export function keysetPage<T extends { id: number }>(rows: T[], limit: number) {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return { rows: page, nextId: more ? page[page.length - 1]!.id : null };
}
