import { getDb, getReceiverDb, getWorkerDb } from '@/lib/db';
import { env } from '@/lib/env';
import { log } from '@/lib/log';
import { type ProviderName, providerOf } from '@/lib/providers/registry';
import type { EmbeddedSandbox, ManagementApi } from '@/lib/providers/types';
import { createReceiverStack, type ReceiverStack } from '@/lib/receiver/stack';
import { loadKey, SecretBox } from '@/lib/sources/crypto';
import { DEFAULT_SOURCES, defaultSecrets } from '@/lib/sources/defaults';
import { type BuiltInSource, SourceDirectory } from '@/lib/sources/directory';
import type { SecretsDeps } from '@/lib/sources/secrets';
import type { SourceDeps } from '@/lib/sources/service';
import { Worker } from '@/lib/worker/worker';

/**
 * The process-wide pieces (group commit, recorder, worker, background jobs), created once. Next can
 * evaluate this module in more than one bundle, so the instances live on globalThis.
 */
type Runtime = {
  receiver: ReceiverStack;
  worker: Worker | null;
  sandboxSecrets: () => Promise<string[]>;
  notifyUrl: () => string | null;
  /** Management API base URL and key per provider: from env, or the embedded sandbox's. */
  managementApi: (provider: ProviderName) => ManagementApi | null;
  sources: SourceDeps;
  /** The embedded sandbox in demo mode (its downstream outage switch), else null. */
  sandbox: EmbeddedSandbox | null;
  stops: Array<() => Promise<void>>;
  started: boolean;
};

const g = globalThis as { __skylightRuntime?: Runtime };

/**
 * The default sources from the environment: each one whose secret variable is set, and in sandbox
 * mode the one of the provider whose embedded sandbox runs, with the sandbox's own secrets added.
 * These seed the source; once a rotation stored its secrets, the stored rows decide (directory.ts).
 */
function builtInSources(sandboxSecrets: () => Promise<string[]>): Map<string, BuiltInSource> {
  const out = new Map<string, BuiltInSource>();
  for (const d of DEFAULT_SOURCES) {
    const fromEnv = defaultSecrets(d);
    const withSandbox = env.sandbox && providerOf(d.provider).embeddedSandbox !== undefined;
    if (fromEnv.length === 0 && !withSandbox) continue;
    out.set(d.slug, {
      slug: d.slug,
      provider: d.provider,
      seedLabel: d.secretsVariable,
      seeds: withSandbox
        ? async () => [...fromEnv, ...(await sandboxSecrets())]
        : () => Promise.resolve(fromEnv),
    });
  }
  return out;
}

function sourceDeps(sandboxSecrets: () => Promise<string[]>): SourceDeps {
  const key = loadKey({
    configured: env.SECRETS_ENCRYPTION_KEY,
    databaseUrl: env.DATABASE_URL,
    pgliteDir: env.PGLITE_DIR,
  });
  const box = key ? new SecretBox(key) : null;
  return {
    db: getDb,
    box,
    directory: new SourceDirectory({ db: getDb, box, builtIn: builtInSources(sandboxSecrets) }),
  };
}

export function runtime(): Runtime {
  if (g.__skylightRuntime) return g.__skylightRuntime;
  const sources = sourceDeps(() => runtime().sandboxSecrets());
  g.__skylightRuntime = {
    worker: null,
    sandboxSecrets: async () => [],
    notifyUrl: () => env.NOTIFY_WEBHOOK_URL ?? null,
    managementApi: (provider) => providerOf(provider).configuredManagementApi?.() ?? null,
    sandbox: null,
    sources,
    receiver: createReceiverStack({
      db: getReceiverDb,
      sources: sources.directory,
      maxBodyBytes: env.RECEIVER_MAX_BODY_BYTES,
      maxAgeMs: env.RECEIVER_MAX_AGE_HOURS * 3_600_000,
      maxInFlight: env.DATABASE_URL ? 4 : 1,
      fingerprintHours: env.DEDUPE_FINGERPRINT_HOURS,
      onAccepted: () => runtime().worker?.nudge(),
    }),
    stops: [],
    started: false,
  };
  return g.__skylightRuntime;
}

/** What the secrets routes need: the sources, and the provider API that can regenerate a secret. */
export function secretsDeps(): SecretsDeps {
  const rt = runtime();
  return { ...rt.sources, managementApi: (provider) => rt.managementApi(provider) };
}

export function createWorker(): Worker {
  return new Worker(getWorkerDb, {
    concurrency: env.WORKER_CONCURRENCY,
    batchSize: env.WORKER_BATCH_SIZE,
    gatherMs: env.WORKER_GATHER_MS,
    maxAttempts: env.WORKER_MAX_ATTEMPTS,
    backoffMs: env.WORKER_BACKOFF_MS,
    context: () => ({ notifyUrl: runtime().notifyUrl() }),
  });
}

/**
 * Starts what runs inside the web process: migrations, inline worker, background jobs, sandbox.
 * `handleSignals: false` when the caller (our HTTP entry) drains the server itself on SIGTERM.
 */
export async function startInProcess(opts: { handleSignals?: boolean } = {}) {
  const rt = runtime();
  if (rt.started) return;
  rt.started = true;
  const { ensureBootstrapAdmin, BOOTSTRAP_EMAIL, PASSWORD_FILE } = await import('@/lib/auth/bootstrap');
  const made = await ensureBootstrapAdmin(await getDb(), env.DASHBOARD_PASSWORD);
  const how =
    made === 'exists' || made === 'lost_race'
      ? 'log in with your email and password'
      : `log in as ${BOOTSTRAP_EMAIL} with ${made === 'from_env' ? 'DASHBOARD_PASSWORD' : made === 'from_legacy' ? 'your existing dashboard password' : `the password in ${PASSWORD_FILE}`}`;
  console.log(
    `Dashboard: http://localhost:${env.PORT}/ (${env.sandbox ? 'sandbox mode' : `SkyLight API ${env.SKYLIGHT_API_URL}`}); ${how}`,
  );
  if (env.WORKER_INLINE) {
    rt.worker = createWorker();
    rt.worker.start();
    rt.stops.push(() => rt.worker!.stop());
  }
  const { startBackgroundJobs } = await import('@/lib/jobs');
  rt.stops.push(startBackgroundJobs(getDb, rt.receiver.rollups));
  if (env.sandbox) {
    // Demo mode: the first provider with an embedded sandbox, pointed at its default source.
    const demo = DEFAULT_SOURCES.find((d) => providerOf(d.provider).embeddedSandbox);
    const start = demo ? providerOf(demo.provider).embeddedSandbox : undefined;
    if (!demo || !start) throw new Error('sandbox mode needs a provider with an embedded sandbox');
    const sandbox = await start({
      url: `http://127.0.0.1:${env.PORT}/api/webhooks/${demo.slug}`,
      outageDemo: !env.NOTIFY_WEBHOOK_URL,
    });
    rt.sandbox = sandbox;
    rt.sandboxSecrets = sandbox.secrets;
    rt.managementApi = (provider) =>
      provider === demo.provider ? { url: sandbox.apiUrl, key: sandbox.apiKey } : null;
    if (!env.NOTIFY_WEBHOOK_URL) rt.notifyUrl = () => sandbox.downstreamUrl;
    rt.stops.push(sandbox.stop);
  }
  if (opts.handleSignals === false) return;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'shutting down');
      void stopInProcess().finally(() => process.exit(0));
    });
  }
}

/**
 * Stops the worker (finishing or releasing its events), jobs and sandbox side by side (the worker's
 * release must not wait behind a job), then writes what is pending.
 */
export async function stopInProcess() {
  const rt = runtime();
  const stops = rt.stops;
  rt.stops = [];
  await Promise.all(stops.map((stop) => stop().catch((err) => log.warn({ err }, 'stop failed'))));
  await rt.receiver.drain();
}
