import type { ZodError } from 'zod';
import { ConflictError, NotFoundError } from '@/db/errors';
import { log } from './log';

export const ERROR_CODES = [
  'bad_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'payload_too_large',
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
  payload_too_large: 413,
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
    readonly extra: { issues?: Issue[]; retryAfterS?: number; cause?: unknown } = {},
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
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === '40001' || code === '40P01') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
