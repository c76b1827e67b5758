/**
 * The environment every benchmarked server starts with: production, quiet logs, worker off (runs turn
 * it on where they measure it), the bench's signing secret. Postgres when a URL is given, else PGlite
 * in `pgliteDir`.
 */
export function appEnv(
  secret: string,
  databaseUrl: string | undefined,
  pgliteDir?: string,
): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    NEXT_TELEMETRY_DISABLED: '1',
    SKYLIGHT_API_KEY: 'bench',
    SKYLIGHT_WEBHOOK_SECRET: secret,
    DASHBOARD_PASSWORD: 'bench-password',
    LOG_LEVEL: 'warn',
    WORKER_INLINE: 'false',
    BENCH_SECRET: secret,
  };
  if (databaseUrl) e.DATABASE_URL = databaseUrl;
  else e.PGLITE_DIR = pgliteDir;
  return e;
}

/** `--env KEY=VALUE` arguments (repeatable) as variables for ours, for an A/B of a setting. */
export function envPairs(pairs: string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((kv) => {
      const i = kv.indexOf('=');
      if (i < 1) throw new Error(`--env wants KEY=VALUE, got ${kv}`);
      return [kv.slice(0, i), kv.slice(i + 1)];
    }),
  );
}
