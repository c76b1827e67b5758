import { queryOptions } from '@tanstack/react-query';
import { fetchJson, qs } from './fetch-json';
import type { DeliveryPage, ProviderWebhook } from './types';

export const webhooksOptions = () =>
  queryOptions({
    queryKey: ['webhooks', 'list'] as const,
    queryFn: async ({ signal }) =>
      (await fetchJson<ProviderWebhook[]>('/api/provider/webhooks', { signal })).data,
  });

export type ProviderDeliveryFilters = { status?: 'pending' | 'delivered' | 'failed'; page: number };

export const providerDeliveriesOptions = (id: number, f: ProviderDeliveryFilters) =>
  queryOptions({
    queryKey: ['webhooks', 'deliveries', id, f] as const,
    queryFn: async ({ signal }): Promise<DeliveryPage> => {
      const body = await fetchJson<DeliveryPage['data'], NonNullable<DeliveryPage['meta']>>(
        `/api/provider/webhooks/${id}/deliveries${qs({ status: f.status, page: f.page })}`,
        { signal },
      );
      return { data: body.data, meta: body.meta ?? null };
    },
  });

export const setWebhookActiveRequest = async (id: number, isActive: boolean) =>
  (
    await fetchJson<ProviderWebhook>(`/api/provider/webhooks/${id}`, {
      method: 'PATCH',
      body: { is_active: isActive },
    })
  ).data;
