import type { DlqCursor } from '@/db/queries/dlq';
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

/**
 * A cursor for a list ordered by a time, then id, both descending (dead letters by when they died):
 * base64url of "at:<µs since the epoch>:id:<n>", the last row's ("at:-" for a row without the time).
 * Microseconds, so rows that died in the same millisecond are neither skipped nor shown twice.
 */
export type TimeCursor = { atUs: string | null; id: number };

export function encodeTimeCursor(c: TimeCursor): string {
  return Buffer.from(`at:${c.atUs ?? '-'}:id:${c.id}`, 'utf8').toString('base64url');
}

export function decodeTimeCursor(cursor: string): TimeCursor {
  const bad = () => new AppError('bad_request', 'Invalid cursor: use next_cursor from the previous page');
  if (cursor.length > 64 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad();
  const m = /^at:(-|-?[0-9]{1,17}):id:([1-9][0-9]{0,15})$/.exec(
    Buffer.from(cursor, 'base64url').toString('utf8'),
  );
  const id = m ? Number(m[2]) : Number.NaN;
  if (!m || !Number.isSafeInteger(id)) throw bad();
  return { atUs: m[1] === '-' ? null : m[1]!, id };
}

/** The dead letters' cursor: `newest` pages by when each died, `expiring` by id; each takes only its own kind. */
export function encodeDlqCursor(c: DlqCursor): string {
  return c.deadUs === undefined ? encodeCursor(c.id) : encodeTimeCursor({ atUs: c.deadUs, id: c.id });
}

export function decodeDlqCursor(cursor: string, sort: 'newest' | 'expiring' | undefined): DlqCursor {
  if (sort === 'expiring') return { id: decodeCursor(cursor) };
  const c = decodeTimeCursor(cursor);
  return { id: c.id, deadUs: c.atUs };
}
