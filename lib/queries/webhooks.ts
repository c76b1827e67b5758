import { queryOptions } from '@tanstack/react-query';
import { fetchJson, qs } from './fetch-json';
import type { DeliveryPageView, WebhookView } from './types';

export const webhooksQuery = () =>
  queryOptions({
    queryKey: ['webhooks', 'list'] as const,
    queryFn: async ({ signal }) =>
      (await fetchJson<WebhookView[]>('/api/provider/webhooks', { signal })).data,
  });

export type ProviderDeliveryFilters = { status?: 'pending' | 'delivered' | 'failed'; page: number };

export const providerDeliveriesQuery = (id: number, f: ProviderDeliveryFilters) =>
  queryOptions({
    queryKey: ['webhooks', 'deliveries', id, f] as const,
    queryFn: async ({ signal }) =>
      (
        await fetchJson<DeliveryPageView>(
          `/api/provider/webhooks/${id}/deliveries${qs({ status: f.status, page: f.page })}`,
          { signal },
        )
      ).data,
  });

export const setWebhookActive = async (id: number, isActive: boolean) =>
  (
    await fetchJson<WebhookView>(`/api/provider/webhooks/${id}`, {
      method: 'PATCH',
      body: { is_active: isActive },
    })
  ).data;
