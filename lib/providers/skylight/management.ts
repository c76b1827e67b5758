import { AppError } from '@/lib/errors';
import type { ApiUse, ManagementApi, ManagementClient, ProviderLogEntry } from '../types';
import { SkylightClient } from './client';
import {
  DELIVERY_STATUS_FILTERS,
  deliveryPageViewSchema,
  type ProviderDelivery,
  webhookViewSchema,
} from './client-schemas';
import { fingerprint } from './envelope';

/** The largest page the docs allow on any list (§5.3): fewer requests against the 120/min limit. */
const LOG_PAGE_SIZE = 100;

/**
 * SkyLight's management API behind the provider contract. Answers are the browser's projections
 * (client-schemas.ts): SkyLight's field names, only the listed ones, so a field the provider adds
 * (a `secret` on a GET, say) never reaches a page.
 */
export function managementClient(api: ManagementApi, use: ApiUse = 'operator'): ManagementClient {
  const client = new SkylightClient({ baseUrl: api.url, apiKey: api.key, use });
  return {
    listWebhooks: async () => (await client.listWebhooks()).map((w) => webhookViewSchema.parse(w)),
    setWebhookActive: async (id, isActive) => {
      // Whether PUT keeps the fields it is not sent is undocumented (§5.7 #4): a provider that
      // replaces the resource would empty the events of a partial PUT, and every event would stop.
      // So the webhook goes back whole, as listed just now (the list is documented, §5.7 #1; a GET
      // of one webhook is not); a change made on the provider's own dashboard between the two
      // calls is the one thing this can overwrite.
      const current = (await client.listWebhooks()).find((w) => w.id === id);
      if (!current) throw new AppError('not_found', `SkyLight has no webhook ${id}`);
      const { name, url, events } = current;
      return webhookViewSchema.parse(
        await client.updateWebhook(id, { name, url, events, is_active: isActive }),
      );
    },
    listDeliveries: async (id, filter) =>
      deliveryPageViewSchema.parse(
        await client.listDeliveries(id, {
          status: DELIVERY_STATUS_FILTERS.find((s) => s === filter.status),
          page: filter.page,
          per_page: 25,
        }),
      ),
    deliveryLog: async (id, page, status) => {
      const body = await client.listDeliveries(id, { status, page, per_page: LOG_PAGE_SIZE });
      return { entries: body.data.map(logEntry), lastPage: body.meta?.last_page ?? null };
    },
    regenerateSecret: async (id) => ({ secret: (await client.regenerateSecret(id)).secret }),
    deliveryStatuses: DELIVERY_STATUS_FILTERS,
  };
}

const date = (value: unknown): Date | null => {
  if (typeof value !== 'string') return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
};

/**
 * The log's item fields are undocumented (§5.7 #7): read what the sandbox and the docs' status table
 * suggest, tolerate their absence. An unknown status is treated as `failed` (not delivered).
 */
function logEntry(row: ProviderDelivery): ProviderLogEntry {
  const status = DELIVERY_STATUS_FILTERS.find((s) => s === row.status) ?? 'failed';
  return {
    rowId: String(row.id),
    deliveryId: row.delivery_id ?? null,
    eventType: row.event_type,
    status,
    attemptNumber: row.attempt_number ?? 1,
    responseStatus: row.response_status_code ?? null,
    sentAt: date(row.updated_at) ?? date(row.created_at) ?? new Date(0),
    nextAttemptAt: date(row.next_attempt_at),
    fingerprint: bodyFingerprint(row.payload),
  };
}

/** Same key as the receiver's content dedupe, when the log shows the request body it sent. */
function bodyFingerprint(payload: unknown): string | null {
  if (typeof payload !== 'string') return null;
  try {
    const body = JSON.parse(payload) as { event?: unknown; data?: unknown };
    return typeof body.event === 'string' && body.data !== undefined
      ? fingerprint(body.event, body.data)
      : null;
  } catch {
    return null;
  }
}
