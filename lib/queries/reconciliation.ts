import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query';
import type { TimeRange } from '@/lib/metrics/buckets';
import type { ReconciliationSummary, ReconciliationViewRow } from '@/lib/queries/types';
import { rangeParams } from '@/lib/time-range';
import { fetchJson, qs } from './fetch-json';
import { REFRESH_MS } from './query-client';

export type ReconciliationFilters = {
  source?: string;
  webhook_id?: number;
  class?: string;
  range?: TimeRange | 'all';
  from?: Date | null;
  to?: Date | null;
};

/**
 * The API's query for a filter, the time range resolved now: at fetch time, so a preset ("last
 * hour") slides with every refresh instead of staying the hour before the page was opened.
 */
function apiFilter({ range = 'all', from, to, ...rest }: ReconciliationFilters) {
  return { ...rest, ...rangeParams({ range, from, to }) };
}

export const reconciliationListOptions = (f: ReconciliationFilters) =>
  infiniteQueryOptions({
    queryKey: ['reconciliation', 'list', f] as const,
    queryFn: ({ pageParam, signal }) =>
      fetchJson<ReconciliationViewRow[]>(
        `/api/reconciliation${qs({ ...apiFilter(f), limit: 50, cursor: pageParam })}`,
        { signal },
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    refetchInterval: REFRESH_MS,
    refetchIntervalInBackground: false,
  });

export const reconciliationSummaryOptions = (f: Omit<ReconciliationFilters, 'class'>) =>
  queryOptions({
    queryKey: ['reconciliation', 'summary', f] as const,
    queryFn: async ({ signal }) =>
      (await fetchJson<ReconciliationSummary>(`/api/reconciliation/summary${qs(apiFilter(f))}`, { signal }))
        .data,
    refetchInterval: REFRESH_MS,
    refetchIntervalInBackground: false,
  });

export const runReconciliationRequest = async () =>
  (await fetchJson<{ run_id: number }>('/api/reconciliation/run', { method: 'POST', body: {} })).data;

/** The streamed export of the same filter (GET /api/reconciliation/export). */
export const reconciliationExportUrl = (f: ReconciliationFilters, format: 'csv' | 'ndjson') =>
  `/api/reconciliation/export${qs({ ...apiFilter(f), format })}`;

/** Sandbox mode: plants refused and dropped deliveries (POST /api/sandbox/losses). */
export const plantSandboxLossesRequest = async () =>
  (
    await fetchJson<{ rejected: string[]; dropped: string[]; recovered: string[] }>('/api/sandbox/losses', {
      method: 'POST',
      body: {},
    })
  ).data;
