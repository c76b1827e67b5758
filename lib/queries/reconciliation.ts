import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query';
import type { ReconciliationSummary, ReconciliationViewRow } from '@/lib/queries/types';
import { fetchJson, qs } from './fetch-json';
import { REFRESH_MS } from './query-client';

export type ReconciliationFilters = { source?: string; webhook_id?: number; class?: string; from?: string };

export const reconciliationListOptions = (f: ReconciliationFilters) =>
  infiniteQueryOptions({
    queryKey: ['reconciliation', 'list', f] as const,
    queryFn: ({ pageParam, signal }) =>
      fetchJson<ReconciliationViewRow[]>(`/api/reconciliation${qs({ ...f, limit: 50, cursor: pageParam })}`, {
        signal,
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    refetchInterval: REFRESH_MS,
    refetchIntervalInBackground: false,
  });

export const reconciliationSummaryOptions = (f: Omit<ReconciliationFilters, 'class'>) =>
  queryOptions({
    queryKey: ['reconciliation', 'summary', f] as const,
    queryFn: async ({ signal }) =>
      (await fetchJson<ReconciliationSummary>(`/api/reconciliation/summary${qs(f)}`, { signal })).data,
    refetchInterval: REFRESH_MS,
    refetchIntervalInBackground: false,
  });

export const runReconciliationRequest = async () =>
  (await fetchJson<{ run_id: number }>('/api/reconciliation/run', { method: 'POST', body: {} })).data;

/** The streamed export of the same filter (GET /api/reconciliation/export). */
export const reconciliationExportUrl = (f: ReconciliationFilters, format: 'csv' | 'ndjson') =>
  `/api/reconciliation/export${qs({ ...f, format })}`;

/** Sandbox mode: plants refused and dropped deliveries (POST /api/sandbox/losses). */
export const plantSandboxLossesRequest = async () =>
  (
    await fetchJson<{ rejected: string[]; dropped: string[]; recovered: string[] }>('/api/sandbox/losses', {
      method: 'POST',
      body: {},
    })
  ).data;
