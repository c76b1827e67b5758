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
