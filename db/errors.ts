/**
 * Errors thrown where a query finds the row missing or in the wrong state. They carry the same
 * `code` names as the API's error model, which maps them to a status (lib/errors.ts); db/ itself
 * knows nothing about HTTP.
 */
export class NotFoundError extends Error {
  readonly code = 'not_found';
  constructor(entity: string, id: number | string) {
    super(`${entity} ${id} not found`);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends Error {
  readonly code = 'conflict';
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** The SQLSTATE of a database error (walking drizzle's "Failed query" wrapper to the driver's error). */
export function sqlState(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

/**
 * "SQLSTATE: message" of a database error, or null for other errors. drizzle's wrapper says "Failed
 * query: <sql> params: <values>"; the driver's error under it has the database's own reason, and
 * only that is safe to store or show (the parameters may be a contact's data).
 */
export function databaseReason(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
      return `${code}: ${String((e as { message?: unknown }).message ?? '').slice(0, 300)}`;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

/**
 * An error's text for a log line or a stored error: for a failed query, the database's reason (or
 * the driver's, when it never reached the database), never drizzle's message, which carries the
 * statement's parameters: delivery bodies, password hashes, signing secrets.
 */
export function errorMessage(err: unknown): string {
  const reason = databaseReason(err);
  if (reason !== null) return reason;
  if (isQueryError(err)) return err.cause === undefined ? 'query failed' : errorMessage(err.cause);
  return err instanceof Error ? err.message : String(err);
}

/**
 * drizzle's DrizzleQueryError, by shape: the app may hold two copies of drizzle (the server bundle's
 * and node_modules'), so `instanceof` would miss one of them.
 */
export function isQueryError(err: unknown): err is Error & { query: string; params: unknown[] } {
  return err instanceof Error && typeof (err as { query?: unknown }).query === 'string' && 'params' in err;
}
