import { getDb } from '@/db/client';
import { alertOperators } from '@/lib/alerts';
import { env } from '@/lib/env';
import { log } from '@/lib/log';
import { RollupBuffer } from '@/lib/metrics/rollup-buffer';
import { GroupCommit } from '@/lib/receiver/group-commit';
import type { ReceiverDeps } from '@/lib/receiver/receive';
import { BackgroundRecorder } from '@/lib/receiver/recorder';
import { RefusalSampler } from '@/lib/receiver/refusals';
import { Worker } from '@/lib/worker/worker';
import type { EmbeddedSandbox } from './providers/skylight/sandbox/embedded';

/**
 * The process-wide pieces (group commit, recorder, worker, background jobs), created once. Next can
 * evaluate this module in more than one bundle, so the instances live on globalThis.
 */
type Runtime = {
  commit: GroupCommit;
  recorder: BackgroundRecorder;
  refusals: RefusalSampler;
  rollups: RollupBuffer;
  worker: Worker | null;
  sandboxSecrets: () => Promise<string[]>;
  notifyUrl: () => string | null;
  /** Management API base URL and key: SkyLight's from env, or the embedded sandbox's. */
  providerApi: () => { url: string; key: string } | null;
  /** The embedded sandbox in demo mode (its downstream outage switch), else null. */
  sandbox: EmbeddedSandbox | null;
  stops: Array<() => Promise<void>>;
  started: boolean;
};

const g = globalThis as { __skylightRuntime?: Runtime };

export function runtime(): Runtime {
  g.__skylightRuntime ??= {
    commit: new GroupCommit(getDb, {
      maxInFlight: env.DATABASE_URL ? 4 : 1,
      fingerprintHours: env.DEDUPE_FINGERPRINT_HOURS,
    }),
    recorder: new BackgroundRecorder(getDb),
    refusals: new RefusalSampler(),
    rollups: new RollupBuffer(),
    worker: null,
    sandboxSecrets: async () => [],
    notifyUrl: () => env.NOTIFY_WEBHOOK_URL ?? null,
    providerApi: () =>
      env.SKYLIGHT_API_KEY ? { url: env.SKYLIGHT_API_URL, key: env.SKYLIGHT_API_KEY } : null,
    sandbox: null,
    stops: [],
    started: false,
  };
  return g.__skylightRuntime;
}

export function receiverDeps(): ReceiverDeps {
  const rt = runtime();
  return {
    secrets: async () =>
      env.sandbox ? [...env.webhookSecrets, ...(await rt.sandboxSecrets())] : env.webhookSecrets,
    maxBodyBytes: env.RECEIVER_MAX_BODY_BYTES,
    commit: rt.commit,
    recorder: rt.recorder,
    refusals: rt.refusals,
    maxAgeMs: env.RECEIVER_MAX_AGE_HOURS * 3_600_000,
    rollups: rt.rollups,
    onAccepted: () => rt.worker?.nudge(),
    onMalformed: (info) => alertOperators({ kind: 'malformed_delivery', ...info }),
  };
}

export function createWorker(): Worker {
  return new Worker(getDb, {
    concurrency: env.WORKER_CONCURRENCY,
    maxAttempts: env.WORKER_MAX_ATTEMPTS,
    backoffMs: env.WORKER_BACKOFF_MS,
    context: () => ({ notifyUrl: runtime().notifyUrl() }),
    onDead: (info) => alertOperators({ kind: 'dead_letter', ...info }),
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
  rt.stops.push(startBackgroundJobs(getDb, rt.rollups));
  if (env.sandbox) {
    const { startEmbeddedSandbox } = await import('@/lib/providers/skylight/sandbox/embedded');
    const sandbox = await startEmbeddedSandbox({ outageDemo: !env.NOTIFY_WEBHOOK_URL });
    rt.sandbox = sandbox;
    rt.sandboxSecrets = sandbox.secrets;
    rt.providerApi = () => ({ url: sandbox.apiUrl, key: sandbox.apiKey });
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

/** Stops the worker (finishing or releasing its events), jobs and sandbox; writes what is pending. */
export async function stopInProcess() {
  const rt = runtime();
  for (const stop of rt.stops.reverse()) await stop().catch((err) => log.warn({ err }, 'stop failed'));
  rt.stops = [];
  await rt.commit.drain();
  await rt.recorder.flush();
}
