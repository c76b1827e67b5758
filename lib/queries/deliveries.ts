import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query';
import type { ProcessingFilter } from '@/db/filters';
import type { ReceiptOutcome } from '@/db/schema';
import type { TimeRange } from '@/lib/metrics/buckets';
import { rangeParams } from '@/lib/time-range';
import { fetchJson, qs } from './fetch-json';
import type { DeliveryDetail, DeliveryRow } from './types';

export type DeliveriesViewFilters = {
  range: TimeRange | 'all';
  from?: Date | null;
  to?: Date | null;
  source?: string | null;
  outcome?: ReceiptOutcome[];
  status?: ProcessingFilter | null;
  event_type?: string | null;
  q?: string | null;
};

export const PAGE_SIZE = 50;

export const deliveriesOptions = (f: DeliveriesViewFilters, live: boolean) =>
  infiniteQueryOptions({
    queryKey: ['deliveries', 'list', f] as const,
    queryFn: ({ pageParam, signal }) => {
      return fetchJson<DeliveryRow[]>(
        `/api/deliveries${qs({ source: f.source, outcome: f.outcome?.join(','), status: f.status, event_type: f.event_type, q: f.q, ...rangeParams(f), limit: PAGE_SIZE, cursor: pageParam })}`,
        { signal },
      );
    },
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    // Live tail re-reads the newest page every few seconds while the tab is visible.
    refetchInterval: live ? 3_000 : false,
    refetchIntervalInBackground: false,
    maxPages: live ? 1 : undefined,
  });

export const deliveryOptions = (id: number) =>
  queryOptions({
    queryKey: ['deliveries', 'detail', id] as const,
    queryFn: async ({ signal }) =>
      (await fetchJson<DeliveryDetail>(`/api/deliveries/${id}`, { signal })).data,
  });

/** Queues a fingerprint duplicate as an event of its own (the operator judged it a new event). */
export const enqueueDelivery = async (id: number) =>
  (
    await fetchJson<{ event_id: number; created: boolean }>(`/api/deliveries/${id}/enqueue`, {
      method: 'POST',
    })
  ).data;
