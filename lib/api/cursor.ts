import { AppError } from '@/lib/errors';

/**
 * Opaque keyset cursors: base64url of "id:<n>", where n is the last row id of the previous page.
 * Lists are ordered by id descending, so the next page is `id < n`; no OFFSET, stable under inserts.
 */
export function encodeCursor(id: number): string {
  return Buffer.from(`id:${id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const bad = () => new AppError('bad_request', 'Invalid cursor: use next_cursor from the previous page');
  if (cursor.length > 64 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad();
  const m = /^id:([1-9][0-9]{0,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const id = m ? Number(m[1]) : Number.NaN;
  if (!Number.isSafeInteger(id)) throw bad();
  return id;
}
