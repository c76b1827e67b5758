import { queryOptions } from '@tanstack/react-query';
import { ApiError, fetchJson } from './fetch-json';
import { REFRESH_MS } from './query-client';

export type SandboxDownstream = { outage: boolean; received: number; accepted: number; failed: number };

/** The demo's downstream outage switch; null when this app has none (not sandbox mode, or notifications go elsewhere). */
export const sandboxDownstreamQuery = () =>
  queryOptions({
    queryKey: ['sandbox', 'downstream'] as const,
    queryFn: async ({ signal }) => {
      try {
        return (await fetchJson<SandboxDownstream>('/api/sandbox/downstream', { signal })).data;
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }
    },
    // Without a switch here (null) there is nothing to refresh.
    refetchInterval: (q) => (q.state.data === null ? false : REFRESH_MS),
    refetchIntervalInBackground: false,
  });

export const setSandboxOutage = async (outage: boolean) =>
  (await fetchJson<SandboxDownstream>('/api/sandbox/downstream', { method: 'POST', body: { outage } })).data;
