import { insertAudit } from '@/db/queries/audit';
import { pruneSandboxDeliveries, sandboxOutageSetting, setSandboxOutageSetting } from '@/db/queries/sandbox';
import { getDb } from '@/lib/db';
import { env } from '@/lib/env';
import { log } from '@/lib/log';
import type { EmbeddedSandbox, SandboxFaults } from '../../types';
import { KNOWN_EVENTS, type KnownEvent } from '../protocol';
import { startSandbox } from './server';
import { DbStore } from './store-db';

/** Identifies the webhook the sandbox keeps pointed at this app across restarts. */
export const EMBEDDED_WEBHOOK_NAME = 'Local app (sandbox)';
const PRUNE_EVERY_MS = 60 * 60_000;
const PROBE_EVERY_MS = 500;
/** Where the repointed-webhook fault sends: a port nothing listens on. */
const ELSEWHERE_URL = 'http://127.0.0.1:9/api/webhooks/elsewhere';
/** The silence fault's default: the most frequent type, so its absence shows soonest. */
const DEFAULT_MUTED: KnownEvent = 'message.received';

/**
 * The demo-mode provider: the sandbox inside the web process, state in the app's database, one
 * webhook subscribed to every event and pointed at our own receiver, streaming SANDBOX_RATE events/s
 * with some duplicates and failing payloads. The API key is minted per process.
 *
 * When the example handlers notify the sandbox's own downstream (`outageDemo`), the demo starts with
 * that downstream in an outage the operator can end from the dashboard: notifications fail, their
 * events are retried and dead-lettered as transient, and a retry after the outage processes them.
 */
export async function startEmbeddedSandbox(opts: {
  url: string;
  outageDemo: boolean;
}): Promise<EmbeddedSandbox> {
  const sandbox = await startSandbox({
    store: new DbStore(getDb),
    knobs: { rate: env.SANDBOX_RATE, timeScale: env.SANDBOX_TIME_SCALE, duplicates: 0.05, failures: 0.05 },
    log: log.child({ component: 'sandbox' }),
  });
  const { core } = sandbox;
  if (opts.outageDemo) core.downstream.outage = await sandboxOutageSetting(await getDb());
  const target = opts.url;
  await ensureWebhook(core, target);
  // Retries that were pending when the app last stopped go out on their original schedule.
  await core.sender.resume();

  const abort = new AbortController();
  // register() runs before Next listens: stream only once our own receiver answers.
  void waitForApp(`http://127.0.0.1:${env.PORT}/api/health`, abort.signal).then((up) => {
    if (!up) return;
    log.info({ target, rate: env.SANDBOX_RATE }, 'sandbox: app is up, streaming deliveries');
    core.sender.start();
  });
  const prune = setInterval(() => {
    const before = new Date(Date.now() - env.RETENTION_DAYS * 86_400_000);
    getDb()
      .then((db) => pruneSandboxDeliveries(db, before))
      .catch((err) => log.warn({ err }, 'sandbox: prune failed'));
  }, PRUNE_EVERY_MS);
  prune.unref();

  log.info({ apiUrl: sandbox.apiUrl, downstreamUrl: sandbox.downstreamUrl }, 'sandbox: started');
  return {
    // core.webhooks() is cached for a second and dropped whenever a secret is regenerated.
    secrets: async () => (await core.webhooks()).map((w) => w.secret),
    downstreamUrl: sandbox.downstreamUrl,
    apiUrl: sandbox.apiUrl,
    apiKey: sandbox.apiKey,
    downstream: () => (opts.outageDemo ? core.downstream.stats() : null),
    setDownstreamOutage: async (on, who) => {
      await setSandboxOutageSetting(await getDb(), on, who);
      core.downstream.outage = on;
      return core.downstream.stats();
    },
    plantLosses: async () => {
      const ids = (list: { deliveryId: string }[]) => list.map((p) => p.deliveryId);
      return {
        rejected: ids(await core.sender.emitLosses(2, 'reject')),
        dropped: ids(await core.sender.emitLosses(2, 'drop')),
        recovered: ids(await core.sender.emitLosses(1, 'reject', { attempts: 1 })),
      };
    },
    faults: async () => faultsOf(core, target),
    setFault: async (fault, on, opts, who) => {
      const hook = (await core.store.listWebhooks()).find((w) => w.name === EMBEDDED_WEBHOOK_NAME);
      if (fault === 'webhook_disabled' && hook) await core.updateWebhook(hook.id, { isActive: !on });
      if (fault === 'webhook_repointed' && hook)
        await core.updateWebhook(hook.id, { url: on ? ELSEWHERE_URL : target });
      if (fault === 'wrong_secret') core.setKnobs({ wrongSecret: on });
      if (fault === 'silence') {
        const type = (KNOWN_EVENTS as readonly string[]).includes(opts.eventType ?? '')
          ? (opts.eventType as KnownEvent)
          : DEFAULT_MUTED;
        const muted = new Set(core.knobs().mutedEvents);
        if (on) muted.add(type);
        else muted.clear();
        core.setKnobs({ mutedEvents: [...muted] });
      }
      await insertAudit(await getDb(), who, 'sandbox_fault', fault, {
        on,
        event_type: opts.eventType ?? null,
      });
      return faultsOf(core, target);
    },
    stop: async () => {
      abort.abort();
      clearInterval(prune);
      await sandbox.stop();
    },
  };
}

async function faultsOf(
  core: Awaited<ReturnType<typeof startSandbox>>['core'],
  target: string,
): Promise<SandboxFaults> {
  const hook = (await core.store.listWebhooks()).find((w) => w.name === EMBEDDED_WEBHOOK_NAME);
  const k = core.knobs();
  return {
    webhook_disabled: hook ? !hook.isActive : true,
    webhook_repointed: hook ? hook.url !== target : true,
    wrong_secret: k.wrongSecret,
    silence: k.mutedEvents.length > 0,
    muted_events: [...k.mutedEvents],
  };
}

/** Creates the app's webhook once; after a restart reuses it (and its secret), following a new PORT. */
async function ensureWebhook(core: Awaited<ReturnType<typeof startSandbox>>['core'], url: string) {
  const existing = (await core.store.listWebhooks()).find((w) => w.name === EMBEDDED_WEBHOOK_NAME);
  if (!existing) {
    await core.createWebhook({ name: EMBEDDED_WEBHOOK_NAME, url, events: [...KNOWN_EVENTS] });
  } else if (existing.url !== url) {
    await core.updateWebhook(existing.id, { url });
  }
}

/** Resolves true once anything answers HTTP at `url` (any status), false if aborted first. */
export async function waitForApp(url: string, signal: AbortSignal): Promise<boolean> {
  while (!signal.aborted) {
    try {
      const res = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(5000)]) });
      await res.body?.cancel();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, PROBE_EVERY_MS).unref());
    }
  }
  return false;
}
