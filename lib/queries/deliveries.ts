import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query';
import type { ProcessingFilter } from '@/db/filters';
import type { ReceiptOutcome } from '@/db/schema';
import type { EnqueuePreview as BulkEnqueuePreview } from '@/lib/deliveries/enqueue';
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
  text?: string | null;
  path?: string | null;
  value?: string | null;
};

export const PAGE_SIZE = 50;

/** The API's filter parameters for a view: the list, its export and its bulk enqueue send the same. */
export function deliveriesApiFilter(f: DeliveriesViewFilters) {
  return {
    source: f.source,
    outcome: f.outcome?.length ? f.outcome.join(',') : undefined,
    status: f.status,
    event_type: f.event_type,
    q: f.q,
    text: f.text,
    path: f.path,
    value: f.value,
    // Resolved now, at fetch time: a preset slides to "now" on every refresh.
    ...rangeParams(f),
  };
}

export const deliveriesOptions = (f: DeliveriesViewFilters, live: boolean) =>
  infiniteQueryOptions({
    queryKey: ['deliveries', 'list', f] as const,
    queryFn: ({ pageParam, signal }) =>
      fetchJson<DeliveryRow[]>(
        `/api/deliveries${qs({ ...deliveriesApiFilter(f), limit: PAGE_SIZE, cursor: pageParam })}`,
        { signal },
      ),
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

/** What a bulk enqueue of the view would do (dry run) or did. */
export type EnqueuePreview = BulkEnqueuePreview & { created?: number; existing?: number };

/** Only set filters go in the body: the API's filter object is strict and takes no nulls. */
const definedOnly = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined && v !== ''));

export const enqueuePreviewOptions = (f: DeliveriesViewFilters) =>
  queryOptions({
    queryKey: ['deliveries', 'enqueue-preview', f] as const,
    queryFn: async () =>
      (
        await fetchJson<EnqueuePreview>('/api/deliveries/enqueue', {
          method: 'POST',
          body: { filter: definedOnly(deliveriesApiFilter(f)), dry_run: true },
        })
      ).data,
    // The dry run a confirmation shows: run afresh at each opening.
    staleTime: 0,
  });

export const enqueueDeliveriesRequest = async (f: DeliveriesViewFilters) =>
  (
    await fetchJson<EnqueuePreview>('/api/deliveries/enqueue', {
      method: 'POST',
      body: { filter: definedOnly(deliveriesApiFilter(f)) },
    })
  ).data;
