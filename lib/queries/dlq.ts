import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query';
import type { RetryPreview } from '@/lib/dlq/preview';
import type { TimeRange } from '@/lib/metrics/buckets';
import { rangeParams } from '@/lib/time-range';
import { fetchJson, qs } from './fetch-json';
import { REFRESH_MS } from './query-client';
import type { DeadLetterRow, EventDetail } from './types';

export type DlqFilters = {
  source?: string | null;
  event_type?: string | null;
  error?: string | null;
  q?: string | null;
  failure?: 'transient' | 'permanent' | null;
  /** When the event was dead-lettered. */
  range?: TimeRange | 'all';
  from?: Date | null;
  to?: Date | null;
  text?: string | null;
  path?: string | null;
  value?: string | null;
};

/** The API's query for a filter: the time range resolved now, at fetch time. */
export function dlqApiFilter({ range = 'all', from, to, ...rest }: DlqFilters) {
  return { ...rest, ...rangeParams({ range, from, to }) };
}
export type DlqCount = { matched: number; transient: number; permanent: number };

export const dlqListOptions = (f: DlqFilters & { sort?: 'newest' | 'expiring' | null }) =>
  infiniteQueryOptions({
    queryKey: ['dlq', 'list', f] as const,
    queryFn: ({ pageParam, signal }) =>
      fetchJson<DeadLetterRow[]>(`/api/dlq${qs({ ...dlqApiFilter(f), limit: 50, cursor: pageParam })}`, {
        signal,
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    refetchInterval: REFRESH_MS,
    refetchIntervalInBackground: false,
  });

export const dlqCountOptions = (f: DlqFilters) =>
  queryOptions({
    queryKey: ['dlq', 'count', f] as const,
    queryFn: async ({ signal }) =>
      (await fetchJson<DlqCount>(`/api/dlq/count${qs(dlqApiFilter(f))}`, { signal })).data,
    // What a confirmation shows before a bulk action: counted afresh at each opening.
    staleTime: 0,
  });

export const eventOptions = (id: number) =>
  queryOptions({
    queryKey: ['dlq', 'detail', id] as const,
    queryFn: async ({ signal }) => (await fetchJson<EventDetail>(`/api/dlq/${id}`, { signal })).data,
  });

export const retryDeadLetterRequest = (id: number) => fetchJson(`/api/dlq/${id}/retry`, { method: 'POST' });
export const discardDeadLetterRequest = (id: number) =>
  fetchJson(`/api/dlq/${id}/discard`, { method: 'POST' });
/** The dry run of a bulk retry (POST /api/dlq/retry with dry_run): what would be retried. */
export type { RetryPreview };

export const retryPreviewOptions = (f: DlqFilters) =>
  queryOptions({
    queryKey: ['dlq', 'preview', f] as const,
    queryFn: async () => {
      const body = Object.fromEntries(
        Object.entries(dlqApiFilter(f)).filter(([, v]) => v !== null && v !== undefined),
      );
      return (
        await fetchJson<RetryPreview>('/api/dlq/retry', { method: 'POST', body: { ...body, dry_run: true } })
      ).data;
    },
    staleTime: 0,
  });

/** Bulk retry of what the filters match (unset filters, null in the URL state, are left out). */
export const retryDeadLettersRequest = async ({
  ids,
  exclude_superseded,
  ...filter
}: DlqFilters & { ids?: number[]; exclude_superseded?: boolean }) => {
  const body = Object.fromEntries(
    Object.entries(ids ? { ids } : { ...dlqApiFilter(filter), exclude_superseded }).filter(
      ([, v]) => v !== null && v !== undefined,
    ),
  );
  return (await fetchJson<{ matched: number }>('/api/dlq/retry', { method: 'POST', body })).data.matched;
};
