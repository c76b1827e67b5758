import type { ZodError } from 'zod';
import { ConflictError, NotFoundError, sqlState } from '@/db/errors';
import { log } from './log';

export const ERROR_CODES = [
  'bad_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'gone',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'unavailable',
  'provider_error',
  'provider_unreachable',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  unavailable: 503,
  provider_error: 502,
  provider_unreachable: 504,
  internal: 500,
};

export type Issue = { path: string; message: string };

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: {
      issues?: Issue[];
      retryAfterS?: number;
      /** A `rate_limited` of our own making: the request was held back, never sent. */
      held?: boolean;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: extra.cause });
    this.name = 'AppError';
  }
  get status() {
    return STATUS[this.code];
  }
}

export function fromZod(err: ZodError, what: string): AppError {
  const issues = err.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  const first = issues[0];
  const detail = first ? `${first.path ? `${first.path}: ` : ''}${first.message}` : 'invalid';
  return new AppError('bad_request', `Invalid ${what}: ${detail}`, { issues });
}

export function errorBody(code: ErrorCode, message: string, issues?: Issue[]) {
  return { error: { code, message, ...(issues ? { issues } : {}) } };
}

/** Maps any thrown value to the error response. Internal errors never echo their message. */
export function toResponse(err: unknown): Response {
  if (err instanceof NotFoundError || err instanceof ConflictError) {
    return toResponse(new AppError(err.code, err.message));
  }
  if (err instanceof AppError) {
    const headers: Record<string, string> = {};
    if (err.extra.retryAfterS !== undefined) headers['Retry-After'] = String(err.extra.retryAfterS);
    return Response.json(errorBody(err.code, err.message, err.extra.issues), {
      status: err.status,
      headers,
    });
  }
  if (isDatabaseUnavailable(err)) {
    return Response.json(errorBody('unavailable', 'Database unavailable, try again shortly'), {
      status: 503,
      headers: { 'Retry-After': '5' },
    });
  }
  if (isTransientDatabaseError(err)) {
    // A lock or statement timeout, a deadlock, too many connections: the transaction rolled back
    // and the same request can succeed in a moment (an operator's retry of a dead letter, say).
    log.warn({ err: sqlState(err) }, 'request met a busy database');
    return Response.json(errorBody('unavailable', 'Database busy, try again shortly'), {
      status: 503,
      headers: { 'Retry-After': '2' },
    });
  }
  log.error({ err }, 'unhandled error');
  return Response.json(errorBody('internal', 'Internal error'), { status: 500 });
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
]);

/** True for errors that mean "the database cannot be reached right now", not a bad query. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
    if (e instanceof AppError && e.code === 'unavailable') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** A write the database refused only because of a concurrent one (serialization failure, deadlock). */
export function isWriteConflict(err: unknown): boolean {
  const state = sqlState(err);
  return state === '40001' || state === '40P01';
}

/**
 * The database refused the *values* (SQLSTATE class 22, data exception: an untranslatable character,
 * a number out of range, an invalid time). This is an allow-list on purpose: only these errors can be
 * blamed on a delivery's content; everything else (locks, timeouts, connection limits, a trigger or
 * constraint on a side table, a missing table mid-migration) is the database's state, and a request
 * that met it must be answered 503 so the provider retries.
 */
export function isContentError(err: unknown): boolean {
  return sqlState(err)?.startsWith('22') ?? false;
}

/**
 * Errors that a later attempt of the same work can outlive: connection loss, lock and statement
 * timeouts, deadlocks and serialization failures, too many connections or other resource limits,
 * a read-only server (failover), an operator cancelling the query, I/O errors.
 */
export function isTransientDatabaseError(err: unknown): boolean {
  if (isDatabaseUnavailable(err)) return true;
  const state = sqlState(err);
  if (state === null) return false;
  return TRANSIENT_CLASSES.has(state.slice(0, 2)) || TRANSIENT_CODES.has(state) || state.startsWith('57P');
}
const TRANSIENT_CLASSES = new Set(['08', '40', '53', '58']);
const TRANSIENT_CODES = new Set([
  '55P03', // lock_not_available (lock_timeout)
  '55006', // object_in_use
  '57014', // query_canceled (statement_timeout, pg_cancel_backend)
  '25006', // read_only_sql_transaction (a replica promoted, a failover in progress)
  '0A000', // feature_not_supported: cached plan must not change result type after a migration
]);
