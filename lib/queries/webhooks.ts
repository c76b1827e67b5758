import { queryOptions } from '@tanstack/react-query';
import { fetchJson, qs } from './fetch-json';
import type { ProviderDeliveryPage, ProviderWebhook } from './types';

export const webhooksOptions = () =>
  queryOptions({
    queryKey: ['webhooks', 'list'] as const,
    queryFn: async ({ signal }) =>
      (await fetchJson<ProviderWebhook[]>('/api/provider/webhooks', { signal })).data,
  });

export type ProviderDeliveryFilters = { status?: string; page: number };

export const providerDeliveriesOptions = (id: number, f: ProviderDeliveryFilters) =>
  queryOptions({
    queryKey: ['webhooks', 'deliveries', id, f] as const,
    queryFn: async ({ signal }): Promise<ProviderDeliveryPage> => {
      const body = await fetchJson<ProviderDeliveryPage['data'], NonNullable<ProviderDeliveryPage['meta']>>(
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
