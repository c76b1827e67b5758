import pino from 'pino';
import { errorMessage, isQueryError, sqlState } from '@/db/errors';
import { env } from './env';
import { REDACTED_HEADERS } from './providers/catalog';

// Secrets and signatures must never reach the log, even when a caller logs a whole object.
const REDACT = [
  'secret',
  'password',
  'apiKey',
  'authorization',
  'signature',
  '*.secret',
  '*.password',
  '*.apiKey',
  '*.authorization',
  '*.signature',
  'secrets',
  '*.secrets',
  ...REDACTED_HEADERS.map((h) => `headers["${h}"]`),
  'headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
];

export const log = pino({
  level: env.LOG_LEVEL,
  redact: { paths: REDACT, censor: '[redacted]' },
  serializers: logSerializers(),
  base: { pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
});

/** pino's serializers: the standard error serializer, after a failed query's parameters are gone. */
export function logSerializers() {
  return { err: (err: unknown) => pino.stdSerializers.err(withoutParameters(err) as Error) };
}

/**
 * A failed query's error without its statement's parameters (delivery bodies, password hashes,
 * secrets: drizzle puts them in the message, the stack's first line and a `params` field): the same
 * stack frames, with the database's reason as the message and its SQLSTATE as the code.
 */
function withoutParameters(err: unknown): unknown {
  if (!isQueryError(err)) return err;
  const clean = Object.assign(new Error(errorMessage(err)), { code: sqlState(err) ?? undefined });
  clean.name = 'QueryError';
  const frames = (err.stack ?? '').split('\n').filter((line) => line.startsWith('    at '));
  clean.stack = [`${clean.name}: ${clean.message}`, ...frames].join('\n');
  return clean;
}
