import type { ManagementApi, ManagementClient } from '../types';
import { SkylightClient } from './client';
import { DELIVERY_STATUS_FILTERS } from './client-schemas';

/** SkyLight's management API behind the provider contract (rows keep SkyLight's field names). */
export function managementClient(api: ManagementApi): ManagementClient {
  const client = new SkylightClient({ baseUrl: api.url, apiKey: api.key });
  return {
    listWebhooks: () => client.listWebhooks(),
    setWebhookActive: (id, isActive) => client.updateWebhook(id, { is_active: isActive }),
    listDeliveries: (id, filter) =>
      client.listDeliveries(id, {
        status: DELIVERY_STATUS_FILTERS.find((s) => s === filter.status),
        page: filter.page,
        per_page: 25,
      }),
    deliveryStatuses: DELIVERY_STATUS_FILTERS,
  };
}
