import { ZodError } from 'zod';
import { databaseReason, errorMessage, isQueryError } from '@/db/errors';
import { isTransientDatabaseError } from '@/lib/errors';

/** Worth retrying: the same input may succeed later (downstream 5xx, timeout, connection). */
export class TransientError extends Error {
  override name = 'TransientError';
}

/** Retrying cannot help (invalid data, downstream 4xx, a bug): dead-letter at once. */
export class PermanentError extends Error {
  override name = 'PermanentError';
}

/** The lease ran out and another worker may own the event now; this attempt's work is discarded. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

export type FailureKind = 'transient' | 'permanent' | 'lease_lost';

export function classify(err: unknown): FailureKind {
  if (err instanceof LeaseLostError) return 'lease_lost';
  // A lock or statement timeout, a deadlock, a connection limit: the same handler may succeed later.
  if (err instanceof TransientError || isTransientDatabaseError(err)) return 'transient';
  // Unknown errors are bugs or bad data: retrying them only repeats the same failure.
  return 'permanent';
}

export function describeError(err: unknown): string {
  if (err instanceof ZodError) {
    const i = err.issues[0];
    return `invalid data: ${i ? `${i.path.join('.') || 'data'}: ${i.message}` : 'validation failed'}`;
  }
  // The database's reason, not drizzle's "Failed query: <sql> params: <the contact's data>".
  const db = databaseReason(err);
  if (db !== null) return `database error ${db}`.slice(0, 2000);
  if (isQueryError(err)) return `database error: ${errorMessage(err)}`.slice(0, 2000);
  const msg =
    err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  return msg.slice(0, 2000);
}
