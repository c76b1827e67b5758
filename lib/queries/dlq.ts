import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query';
import { fetchJson, qs } from './fetch-json';
import { REFRESH_MS } from './query-client';
import type { DeadLetterRow, EventDetail } from './types';

export type DlqFilters = {
  source?: string | null;
  event_type?: string | null;
  error?: string | null;
  q?: string | null;
  failure?: 'transient' | 'permanent' | null;
};
export type DlqCount = { matched: number; transient: number; permanent: number };

export const dlqListOptions = (f: DlqFilters & { sort?: 'newest' | 'expiring' | null }) =>
  infiniteQueryOptions({
    queryKey: ['dlq', 'list', f] as const,
    queryFn: ({ pageParam, signal }) =>
      fetchJson<DeadLetterRow[]>(`/api/dlq${qs({ ...f, limit: 50, cursor: pageParam })}`, { signal }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    refetchInterval: REFRESH_MS,
    refetchIntervalInBackground: false,
  });

export const dlqCountOptions = (f: DlqFilters) =>
  queryOptions({
    queryKey: ['dlq', 'count', f] as const,
    queryFn: async ({ signal }) => (await fetchJson<DlqCount>(`/api/dlq/count${qs(f)}`, { signal })).data,
  });

export const eventOptions = (id: number) =>
  queryOptions({
    queryKey: ['dlq', 'detail', id] as const,
    queryFn: async ({ signal }) => (await fetchJson<EventDetail>(`/api/dlq/${id}`, { signal })).data,
  });

export const retryDeadLetterRequest = (id: number) => fetchJson(`/api/dlq/${id}/retry`, { method: 'POST' });
export const discardDeadLetterRequest = (id: number) =>
  fetchJson(`/api/dlq/${id}/discard`, { method: 'POST' });
/** Bulk retry of what the filters match (unset filters, null in the URL state, are left out). */
export const retryDeadLettersRequest = async (filter: DlqFilters & { ids?: number[] }) => {
  const body = Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== null && v !== undefined));
  return (await fetchJson<{ matched: number }>('/api/dlq/retry', { method: 'POST', body })).data.matched;
};
