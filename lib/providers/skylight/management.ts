import type { ManagementApi, ManagementClient } from '../types';
import { SkylightClient } from './client';
import { DELIVERY_STATUS_FILTERS, deliveryPageViewSchema, webhookViewSchema } from './client-schemas';

/**
 * SkyLight's management API behind the provider contract. Answers are the browser's projections
 * (client-schemas.ts): SkyLight's field names, only the listed ones, so a field the provider adds
 * (a `secret` on a GET, say) never reaches a page.
 */
export function managementClient(api: ManagementApi): ManagementClient {
  const client = new SkylightClient({ baseUrl: api.url, apiKey: api.key });
  return {
    listWebhooks: async () => (await client.listWebhooks()).map((w) => webhookViewSchema.parse(w)),
    setWebhookActive: async (id, isActive) =>
      webhookViewSchema.parse(await client.updateWebhook(id, { is_active: isActive })),
    listDeliveries: async (id, filter) =>
      deliveryPageViewSchema.parse(
        await client.listDeliveries(id, {
          status: DELIVERY_STATUS_FILTERS.find((s) => s === filter.status),
          page: filter.page,
          per_page: 25,
        }),
      ),
    regenerateSecret: async (id) => ({ secret: (await client.regenerateSecret(id)).secret }),
    deliveryStatuses: DELIVERY_STATUS_FILTERS,
  };
}
