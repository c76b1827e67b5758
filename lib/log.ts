import pino from 'pino';
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
  base: { pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
});
