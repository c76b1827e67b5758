import type { Db } from '@/db/client';
import { errorMessage } from '@/db/errors';
import { receivedDeliveryIds } from '@/db/queries/alert-signals';
import { type Finding, readMemory, writeMemory } from '@/db/queries/alerts';
import { log } from '@/lib/log';
import { type ProviderName, providerOf } from '@/lib/providers/registry';
import type { ManagementClient, ProviderDeliveryRow, ProviderWebhookRow } from '@/lib/providers/types';
import type { SourceRef } from './checks';

/** Per round and webhook: 4 pages of the failed log at most (the page size is the provider's). */
export const MAX_FAILED_PAGES = 4;
const MEMORY_KEY = 'alerts:watched_webhooks';
const SAMPLE = 20;

/** Source slug → ids of the provider webhooks seen pointing at it (so a deleted one is noticed). */
type Watched = Record<string, number[]>;

export type WatchdogResult = {
  /** Null when the webhook list could not be read this round. */
  webhookDisabled: Finding[] | null;
  /** Null when some delivery log could not be read (a 429 past the client's own retries, an outage). */
  providerFailed: Finding[] | null;
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

/** Whether a provider webhook's URL is this app's receiver for `slug`. */
export function pointsAt(url: string, slug: string, appUrl: string | null): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const path = `/api/webhooks/${slug}`;
  if (!appUrl) return u.pathname.replace(/\/+$/, '') === path;
  const expected = new URL(path.slice(1), appUrl.endsWith('/') ? appUrl : `${appUrl}/`);
  return u.origin === expected.origin && u.pathname.replace(/\/+$/, '') === expected.pathname;
}

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
 * at us?) and, for the webhooks pointed at our sources, the delivery log filtered to `failed`.
 */
export async function runWatchdog(o: WatchdogOptions): Promise<WatchdogResult | null> {
  const providers = [...new Set(o.sources.map((s) => s.provider))].filter((p) => providerOf(p).management);
  if (providers.length === 0) return null;
  const watched = await readMemory<Watched>(o.db, MEMORY_KEY, {});
  const webhookDisabled: Finding[] = [];
  const providerFailed: Finding[] = [];
  let listsOk = true;
  let logsOk = true;
  for (const provider of providers) {
    const client = await o.management(provider).catch(() => null);
    if (!client) continue;
    let hooks: ProviderWebhookRow[];
    try {
      hooks = await client.listWebhooks();
    } catch (err) {
      log.warn({ provider, err: errorMessage(err) }, 'alerts: provider webhook list unreadable');
      listsOk = false;
      logsOk = false;
      continue;
    }
    const window = providerOf(provider).delivery;
    for (const source of o.sources.filter((s) => s.provider === provider)) {
      const pointing = hooks.filter((h) => pointsAt(h.url, source.slug, o.appUrl));
      const known = new Set([...(watched[source.slug] ?? []), ...pointing.map((h) => h.id)]);
      watched[source.slug] = [...known];
      const active = pointing.filter((h) => h.is_active);
      if (known.size > 0 && active.length === 0) {
        webhookDisabled.push(disabledFinding(source.slug, [...known], hooks, pointing));
      }
      for (const id of known) {
        if (!hooks.some((h) => h.id === id)) continue;
        try {
          const failed = await failedSince(
            client,
            id,
            new Date(o.now.getTime() - o.failedWindowMinutes * 60_000),
          );
          const saved = await receivedDeliveryIds(
            o.db,
            source.slug,
            failed.map((f) => String(f.delivery_id ?? '')).filter(Boolean),
          );
          const missing = failed.filter((f) => !saved.has(String(f.delivery_id ?? '')));
          if (missing.length >= o.failedThreshold && missing.length > 0) {
            const active = hooks.find((h) => h.id === id)?.is_active ?? false;
            providerFailed.push(
              failedFinding(source.slug, id, missing, active ? window : { retryDelaysMs: [] }),
            );
          }
        } catch (err) {
          log.warn({ provider, webhook: id, err: errorMessage(err) }, 'alerts: delivery log unreadable');
          logsOk = false;
        }
      }
    }
  }
  await writeMemory(o.db, MEMORY_KEY, watched);
  return {
    webhookDisabled: listsOk ? webhookDisabled : null,
    providerFailed: logsOk ? providerFailed : null,
  };
}

async function failedSince(client: ManagementClient, id: number, since: Date) {
  const out: ProviderDeliveryRow[] = [];
  for (let page = 1; page <= MAX_FAILED_PAGES; page++) {
    const p = await client.listDeliveries(id, { status: 'failed', page });
    const fresh = p.data.filter((d) => new Date(d.created_at) >= since);
    out.push(...fresh);
    // Newest first: a page reaching past the window ends the walk.
    if (fresh.length < p.data.length || !p.meta || p.meta.current_page >= p.meta.last_page) break;
  }
  return out;
}

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

/** `delivery.retryDelaysMs` is empty for a disabled webhook: it retries nothing, so every failure is final. */
function failedFinding(
  slug: string,
  webhookId: number,
  missing: ProviderDeliveryRow[],
  delivery: { retryDelaysMs: readonly number[] },
): Finding {
  const finalAttempt = delivery.retryDelaysMs.length + 1;
  const rows = missing.slice(0, SAMPLE).map((d) => {
    const attempt = typeof d.attempt_number === 'number' ? d.attempt_number : null;
    // `failed` is final only after the last attempt (provider-contract C6); before it, a retry is due.
    const remaining =
      attempt !== null && attempt < finalAttempt && delivery.retryDelaysMs.length > 0
        ? delivery.retryDelaysMs.slice(attempt - 1).reduce((s, v) => s + v, 0)
        : 0;
    return {
      delivery_id: d.delivery_id ?? null,
      event_type: d.event_type,
      attempt_number: attempt,
      at: d.created_at,
      deadline_at:
        remaining > 0 ? new Date(new Date(d.created_at).getTime() + remaining).toISOString() : null,
      lost: remaining === 0,
    };
  });
  const lost = rows.filter((r) => r.lost).length;
  const pending = rows
    .filter((r) => !r.lost)
    .map((r) => r.deadline_at!)
    .sort();
  return {
    rule: 'provider_failed',
    subject: slug,
    severity: 'critical',
    summary: `${slug}: the provider logged ${missing.length} failed deliver${missing.length === 1 ? 'y' : 'ies'} we never received (webhook ${webhookId}; ${lost} given up)`,
    detail: {
      evidence: { webhook_id: webhookId, failed_not_received: missing.length },
      at_risk: rows,
      deadline_at: pending[0] ?? null,
      lost: lost > 0,
      action:
        'Given-up deliveries are lost: the provider has no replay, so fetch those objects from its API and backfill. Deliveries with a deadline are still being retried: fix the cause (secret, outage) before it.',
    },
  };
}
