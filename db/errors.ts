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
