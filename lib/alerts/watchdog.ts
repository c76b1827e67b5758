import type { Db } from '@/db/client';
import { errorMessage } from '@/db/errors';
import { type Finding, readMemory, writeMemory } from '@/db/queries/alerts';
import { receiptsForDeliveryIds } from '@/db/queries/reconciliation';
import { log } from '@/lib/log';
import { type ProviderName, providerOf } from '@/lib/providers/registry';
import type { ManagementClient, ProviderWebhookRow } from '@/lib/providers/types';
import { ourSourceOfUrl } from '@/lib/receiver/stack';
import { type DeliveryRules, type Reconciled, reconcile } from '@/lib/reconciliation/classify';
import { knownFromRead, readDeliveryLog } from '@/lib/reconciliation/log-read';
import type { SourceRef } from './checks';

/** Per read of a webhook's delivery log: 4 pages at most (the page size is the provider's). */
const LOG_PAGES_PER_READ = 4;
const MEMORY_KEY = 'alerts:watched_webhooks';
const SAMPLE = 20;

/** Source slug → ids of the provider webhooks seen pointing at it (so a deleted one is noticed). */
type Watched = Record<string, number[]>;

export type WatchdogResult = {
  /** Null when the webhook list could not be read this round. */
  webhookDisabled: Finding[] | null;
  /** Null when some delivery log could not be read (a 429 past the client's own retries, an outage). */
  providerFailed: Finding[] | null;
  /** Why a list or log could not be read (the first failure of the round), for the rule_blind alert. */
  failure: string | null;
};

export type WatchdogOptions = {
  db: Db;
  now: Date;
  sources: SourceRef[];
  management: (provider: ProviderName) => Promise<ManagementClient | null>;
  /** The app's public base URL (APP_PUBLIC_URL); without it only the path is compared. */
  appUrl: string | null;
  failedWindowMinutes: number;
  failedThreshold: number;
};

/** Host and path only: a webhook URL may carry a token in its query. */
const shown = (url: string) => {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname}`;
  } catch {
    return '(not a URL)';
  }
};

/**
 * Polls each provider's management API once: the webhook list (is ours still there, active, pointed
 * at us?) and, for the webhooks pointed at our sources, their delivery logs.
 */
export async function runWatchdog(o: WatchdogOptions): Promise<WatchdogResult | null> {
  const providers = [...new Set(o.sources.map((s) => s.provider))].filter((p) => providerOf(p).management);
  const webhookDisabled: Finding[] = [];
  const providerFailed: Finding[] = [];
  let listsOk = true;
  let logsOk = true;
  let failure: string | null = null;
  const fail = (what: string, err: unknown) => {
    failure ??= `${what}: ${errorMessage(err).replace(/\.+$/, '')}`;
  };
  // Only providers with a management API configured here are watched; none at all: nothing to say.
  const clients: Array<[ProviderName, ManagementClient]> = [];
  for (const provider of providers) {
    try {
      const client = await o.management(provider);
      if (client) clients.push([provider, client]);
    } catch (err) {
      // Configured, but its client could not be made: the rules cannot look, which is not "all clear".
      log.warn({ provider, err: errorMessage(err) }, 'alerts: provider management client unavailable');
      fail(`${providerOf(provider).label} management client`, err);
      listsOk = false;
      logsOk = false;
    }
  }
  if (clients.length === 0 && failure === null) return null;
  const watched = await readMemory<Watched>(o.db, MEMORY_KEY, {});
  for (const [provider, client] of clients) {
    let hooks: ProviderWebhookRow[];
    try {
      hooks = await client.listWebhooks();
    } catch (err) {
      log.warn({ provider, err: errorMessage(err) }, 'alerts: provider webhook list unreadable');
      fail(`${providerOf(provider).label} webhook list`, err);
      listsOk = false;
      logsOk = false;
      continue;
    }
    const window = providerOf(provider).delivery;
    for (const source of o.sources.filter((s) => s.provider === provider)) {
      const pointing = hooks.filter((h) => ourSourceOfUrl(h.url, o.appUrl) === source.slug);
      const active = pointing.filter((h) => h.is_active);
      // With an active webhook pointed here, the ones deleted or re-pointed since were replaced: they
      // are forgotten (a re-pointed one's failures are another receiver's, not ours).
      const remembered = active.length > 0 ? [] : (watched[source.slug] ?? []);
      const known = new Set([...remembered, ...pointing.map((h) => h.id)]);
      watched[source.slug] = [...known];
      if (known.size > 0 && active.length === 0) {
        webhookDisabled.push(disabledFinding(source.slug, [...known], hooks, pointing));
      }
      // Every webhook pointed here adds to one finding per source (two of them would overwrite each
      // other's incident).
      const atRisk: AtRisk[] = [];
      const readFrom: number[] = [];
      let partial = false;
      for (const id of known) {
        const hook = hooks.find((h) => h.id === id);
        if (!hook) continue;
        try {
          // A disabled webhook retries nothing: every failure of it is final.
          const rules = hook.is_active ? window : { ...window, retryDelaysMs: [] };
          const found = await undelivered(o, client, provider, source.slug, id, rules);
          atRisk.push(...found.atRisk);
          partial ||= found.partial;
          readFrom.push(id);
        } catch (err) {
          log.warn({ provider, webhook: id, err: errorMessage(err) }, 'alerts: delivery log unreadable');
          fail(`${providerOf(provider).label} delivery log of webhook ${id}`, err);
          logsOk = false;
        }
      }
      if (atRisk.length >= o.failedThreshold && atRisk.length > 0) {
        providerFailed.push(failedFinding(source.slug, readFrom, atRisk, partial));
      }
    }
  }
  await writeMemory(o.db, MEMORY_KEY, watched);
  return {
    webhookDisabled: listsOk ? webhookDisabled : null,
    providerFailed: logsOk ? providerFailed : null,
    failure,
  };
}

type AtRisk = Reconciled & { webhookId: number };

/** One webhook's undelivered deliveries; `partial` when the log had more than the reads could cover. */
type Undelivered = { atRisk: AtRisk[]; partial: boolean };

/**
 * The deliveries of one webhook the provider has not delivered to us, from its delivery log (newest
 * first, within the rule's window), read as reconciliation reads it: attempts linked into one
 * delivery (by content when the log carries the body, so a retry with a new id is the same delivery
 * and a later success clears it), matched to our receipts, with the provider's retry deadline (its
 * schedule and answer timeout) or "given up".
 */
async function undelivered(
  o: WatchdogOptions,
  client: ManagementClient,
  provider: ProviderName,
  slug: string,
  webhookId: number,
  rules: DeliveryRules,
): Promise<Undelivered> {
  const read = await readDeliveryLog((page, status) => client.deliveryLog(webhookId, page, status), {
    since: o.now.getTime() - o.failedWindowMinutes * 60_000,
    pages: LOG_PAGES_PER_READ,
    filteredPages: LOG_PAGES_PER_READ,
  });
  const ids = [...new Set(read.entries.flatMap((e) => (e.deliveryId ? [e.deliveryId] : [])))];
  const ours = await receiptsForDeliveryIds(o.db, provider, ids);
  // The provider's own final attempt: `rules` call every failure of a disabled webhook final.
  const finalAttempt = providerOf(provider).delivery.retryDelaysMs.length + 1;
  const atRisk = reconcile({ provider, webhookId, source: slug }, read.entries, ours, rules, o.now)
    .filter((r) => r.providerStatus !== 'delivered' && UNDELIVERED.has(r.class))
    .filter((r) => knownFromRead(r, read, finalAttempt))
    .map((r) => ({ ...r, webhookId }));
  return { atRisk, partial: !read.complete };
}

/** Classes of a delivery that has not reached us as an acknowledged one (lib/reconciliation). */
const UNDELIVERED = new Set(['never_received', 'answered_non_2xx', 'provider_failed']);

function disabledFinding(
  slug: string,
  known: number[],
  hooks: ProviderWebhookRow[],
  pointing: ProviderWebhookRow[],
): Finding {
  const what = known.map((id) => {
    const h = hooks.find((w) => w.id === id);
    if (!h) return `webhook ${id} was deleted`;
    if (!pointing.includes(h)) return `webhook ${id} now points at ${shown(h.url)}`;
    return `webhook ${id} is disabled`;
  });
  return {
    rule: 'webhook_disabled',
    subject: slug,
    severity: 'critical',
    summary: `${slug}: no active provider webhook points here (${what.join('; ')})`,
    detail: {
      evidence: { webhooks: what },
      at_risk: [],
      deadline_at: null,
      // The provider does not queue events while a webhook is off: everything until it is back is gone.
      lost: true,
      action:
        'Re-enable or re-point the webhook in the provider’s dashboard (or the Webhooks page). Events sent while it was off are not queued by the provider: export them from the provider’s API for a manual backfill.',
    },
  };
}

function failedFinding(slug: string, webhookIds: number[], atRisk: AtRisk[], partial: boolean): Finding {
  const newestFirst = [...atRisk].sort((a, b) => b.lastSentAt.getTime() - a.lastSentAt.getTime());
  const rows = newestFirst.slice(0, SAMPLE).map((r) => ({
    delivery_id: r.deliveryId,
    event_type: r.eventType,
    webhook_id: r.webhookId,
    attempt_number: r.attemptNumber,
    at: r.lastSentAt.toISOString(),
    class: r.class,
    our_answer: r.ourHttpStatus,
    deadline_at: r.retryDeadlineAt?.toISOString() ?? null,
    lost: r.exhausted,
  }));
  const lost = atRisk.filter((r) => r.exhausted).length;
  const pending = atRisk.flatMap((r) =>
    r.exhausted || !r.retryDeadlineAt ? [] : [r.retryDeadlineAt.getTime()],
  );
  const n = atRisk.length;
  // The log had more failed or pending attempts than one round reads: the counts are a floor.
  const atLeast = partial ? 'at least ' : '';
  return {
    rule: 'provider_failed',
    subject: slug,
    severity: 'critical',
    summary: `${slug}: the provider has ${atLeast}${n} deliver${n === 1 ? 'y' : 'ies'} it could not deliver to us (webhook ${webhookIds.join(', ')}; ${atLeast}${lost} given up)`,
    detail: {
      evidence: { webhook_ids: webhookIds, undelivered: n, given_up: lost, log_read_in_full: !partial },
      at_risk: rows,
      deadline_at: pending.length > 0 ? new Date(Math.min(...pending)).toISOString() : null,
      lost: lost > 0,
      ...(lost > 0 ? { lost_count: lost } : {}),
      action:
        'Given-up deliveries are lost: the provider has no replay, so fetch those objects from its API and backfill. Deliveries with a deadline are still being retried: fix the cause (secret, outage) before it. The Reconciliation page has every attempt.',
    },
  };
}
