import { z } from 'zod';

// All configuration is read here, once, and validated. Anything else imports `env`.
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const intIn = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

// TRUST_PROXY: unset or `false` ignores forwarded headers; `true` trusts the first X-Forwarded-For
// hop; a number n says n proxies stand in front of the app (the n-th hop from the right).
const trustProxy = z.union([z.enum(['true', 'false']).transform((v) => v === 'true'), intIn(0, 10)], {
  error: 'must be true, false, or a number of proxies in front of the app (0-10)',
});

/** Comma-separated secrets (old and new during a rotation): at least one that is not blank. */
const secretList = z
  .string()
  .refine((v) => splitSecrets(v).length > 0, 'must hold at least one secret (comma-separated, none blank)');
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: intIn(1, 65535).default(3000),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// connection string')
      .optional(),
    PGLITE_DIR: z.string().min(1).default('.data/pglite'),
    SKYLIGHT_WEBHOOK_SECRET: secretList.optional(),
    // The API key travels in a header: plain http only to this machine (a local sandbox or proxy).
    SKYLIGHT_API_URL: z
      .url({ protocol: /^https?$/ })
      .refine(
        (u) => new URL(u).protocol === 'https:' || LOOPBACK.has(new URL(u).hostname),
        'must be https:// (http:// only for localhost or 127.0.0.1: the API key would travel in clear)',
      )
      .default('https://dashboard.skylightchat.com/api/v1'),
    SKYLIGHT_API_KEY: z.string().min(1).optional(),
    SLY_WEBHOOK_SECRET: secretList.optional(),
    SECRETS_ENCRYPTION_KEY: z
      .string()
      .refine(
        (v) => /^[0-9a-fA-F]{64}$/.test(v) || /^[A-Za-z0-9+/]{43}=$/.test(v),
        'must be 32 random bytes as 64 hex characters or base64: `openssl rand -base64 32`',
      )
      .optional(),
    DASHBOARD_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
    DASHBOARD_API_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
    METRICS_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
    TRUST_PROXY: trustProxy.default(false),
    WORKER_MAX_ATTEMPTS: intIn(1, 100).default(5),
    WORKER_BACKOFF_MS: intIn(1, 3_600_000).default(2000),
    // Unset: 4 on Postgres, 1 on PGlite. PGlite's one connection runs one transaction at a time, so
    // more slots only split a claim into more, smaller transactions queued behind each other, each
    // holding the receiver's writes back (BENCHMARKS.md, issue #19); see parseEnv.
    WORKER_CONCURRENCY: intIn(1, 256).optional(),
    // Unset: the worker's own default (lib/worker/worker.ts, DEFAULT_BATCH).
    WORKER_BATCH_SIZE: intIn(1, 256).optional(),
    // bench/levers.md (fourteenth session): 50 ms took a third off Postgres's CPU per delivery at 100–300/s.
    WORKER_GATHER_MS: intIn(0, 1000).default(50),
    WORKER_INLINE: bool.default(true),
    NOTIFY_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
    ALERT_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** The app's public base URL; when set, a provider webhook pointing at another host counts as repointed. */
    APP_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** The name APP_PUBLIC_URL had in earlier releases; read when APP_PUBLIC_URL is unset. */
    APP_URL: z.url({ protocol: /^https?$/ }).optional(),
    ALERT_EVAL_INTERVAL_MS: intIn(1000, 3_600_000).default(30_000),
    ALERT_RESOLVE_AFTER_MS: intIn(0, 3_600_000).default(120_000),
    RECEIVER_MAX_BODY_BYTES: intIn(1024, 64 * 1024 * 1024).default(1_048_576),
    RETENTION_DAYS: intIn(1, 3650).default(30),
    RECEIVER_MAX_AGE_HOURS: intIn(1, 87_600).default(72),
    DEDUPE_FINGERPRINT_HOURS: intIn(1, 8760).default(24),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    SANDBOX_RATE: z.coerce.number().min(0).max(1000).default(3),
    SANDBOX_TIME_SCALE: z.coerce.number().positive().max(100_000).default(60),
  })
  .superRefine((v, ctx) => {
    const sandbox = !v.SKYLIGHT_API_KEY;
    if (!sandbox && !v.SKYLIGHT_WEBHOOK_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['SKYLIGHT_WEBHOOK_SECRET'],
        message: 'is required when SKYLIGHT_API_KEY is set: copy the webhook secret from SkyLight Chat',
      });
    }
    if (v.RECEIVER_MAX_AGE_HOURS >= v.RETENTION_DAYS * 24) {
      // A captured delivery replayed after its delivery_id was pruned would be accepted again.
      ctx.addIssue({
        code: 'custom',
        path: ['RECEIVER_MAX_AGE_HOURS'],
        message: `must be shorter than RETENTION_DAYS (${v.RETENTION_DAYS} d), which is how long delivery ids are kept for dedupe`,
      });
    }
    if (!sandbox && v.NODE_ENV === 'production' && !v.DASHBOARD_PASSWORD) {
      ctx.addIssue({
        code: 'custom',
        path: ['DASHBOARD_PASSWORD'],
        message: 'is required in production outside sandbox mode: set a password of 8+ characters',
      });
    }
  });

export type Env = Omit<z.infer<typeof schema>, 'WORKER_CONCURRENCY' | 'APP_URL'> & {
  WORKER_CONCURRENCY: number;
  sandbox: boolean;
  webhookSecrets: string[];
  slySecrets: string[];
};

export function parseEnv(source: Record<string, string | undefined>): Env {
  // Empty strings mean "unset", as with most dotenv tooling.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const { APP_URL, ...v } = result.data;
  return {
    ...v,
    APP_PUBLIC_URL: v.APP_PUBLIC_URL ?? APP_URL,
    WORKER_CONCURRENCY: v.WORKER_CONCURRENCY ?? (v.DATABASE_URL ? 4 : 1),
    sandbox: !v.SKYLIGHT_API_KEY,
    webhookSecrets: splitSecrets(v.SKYLIGHT_WEBHOOK_SECRET),
    slySecrets: splitSecrets(v.SLY_WEBHOOK_SECRET),
  };
}

/** A comma-separated secret list (several during a rotation). */
export function splitSecrets(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export const env: Env = parseEnv(process.env);
