import { queryOptions } from '@tanstack/react-query';
import type { alertsPage, rulesView } from '@/lib/alerts/service';
import type { Verdict } from '@/lib/alerts/verdict';
import type { SandboxFault, SandboxFaults } from '@/lib/providers/types';
import { ApiError, fetchJson, qs } from './fetch-json';
import { REFRESH_MS } from './query-client';
import type { Json } from './types';

export type AlertRowJson = Json<Awaited<ReturnType<typeof alertsPage>>['rows'][number]>;
type RulesView = Awaited<ReturnType<typeof rulesView>>;
export type AlertRuleJson = Json<RulesView['rules'][number]>;
export type AlertChannelJson = Json<RulesView['channel']>;
export type AlertListState = 'active' | 'resolved';

/** Incidents: `active` (open and acknowledged) or the resolved history, newest first. */
export const alertsOptions = (state: AlertListState) =>
  queryOptions({
    queryKey: ['alerts', 'list', { state }] as const,
    queryFn: async ({ signal }) =>
      (await fetchJson<AlertRowJson[]>(`/api/alerts${qs({ state, limit: 100 })}`, { signal })).data,
    refetchInterval: REFRESH_MS,
  });

export const alertRulesOptions = () =>
  queryOptions({
    queryKey: ['alerts', 'rules'] as const,
    queryFn: async ({ signal }) => {
      const body = await fetchJson<AlertRuleJson[], { channel: AlertChannelJson }>('/api/alert-rules', {
        signal,
      });
      return { rules: body.data, channel: body.meta?.channel ?? null };
    },
    refetchInterval: REFRESH_MS,
  });

export const verdictOptions = () =>
  queryOptions({
    queryKey: ['alerts', 'verdict'] as const,
    queryFn: async ({ signal }) => (await fetchJson<Verdict>('/api/alerts/verdict', { signal })).data,
    refetchInterval: REFRESH_MS,
  });

/** The demo provider's fault switches; null outside sandbox mode. */
export const sandboxFaultsOptions = () =>
  queryOptions({
    queryKey: ['sandbox', 'faults'] as const,
    queryFn: async ({ signal }) => {
      try {
        return (await fetchJson<SandboxFaults>('/api/sandbox/faults', { signal })).data;
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }
    },
  });

export const acknowledgeAlertRequest = async (id: number) =>
  (await fetchJson<AlertRowJson>(`/api/alerts/${id}/acknowledge`, { method: 'POST' })).data;

export const patchAlertRuleRequest = async (
  rule: string,
  patch: { enabled?: boolean; threshold?: number; window_minutes?: number },
) => (await fetchJson<AlertRuleJson>(`/api/alert-rules/${rule}`, { method: 'PATCH', body: patch })).data;

export const setSandboxFaultRequest = async (fault: SandboxFault, on: boolean) =>
  (await fetchJson<SandboxFaults>('/api/sandbox/faults', { method: 'POST', body: { fault, on } })).data;
