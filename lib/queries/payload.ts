import { queryOptions } from '@tanstack/react-query';
import type { TimeRange } from '@/lib/metrics/buckets';
import { rangeParams } from '@/lib/time-range';
import { fetchJson, qs } from './fetch-json';
import { REFRESH_MS } from './query-client';
import type { DeliveryComparisonsJson, PayloadDriftRow } from './types';

export type PayloadDriftFilters = {
  range: TimeRange;
  from?: Date | null;
  to?: Date | null;
  source?: string | null;
};

/** Shape changes detected in the window, newest first (GET /api/payload-drift). */
export const payloadDriftOptions = (f: PayloadDriftFilters) =>
  queryOptions({
    queryKey: ['payload-drift', f] as const,
    queryFn: async ({ signal }) =>
      (
        await fetchJson<PayloadDriftRow[]>(
          `/api/payload-drift${qs({ ...rangeParams(f), source: f.source, limit: 20 })}`,
          {
            signal,
          },
        )
      ).data,
    refetchInterval: REFRESH_MS,
    refetchIntervalInBackground: false,
  });

/** The delivery's payload diffs (GET /api/deliveries/:id/diff). */
export const deliveryDiffOptions = (id: number) =>
  queryOptions({
    queryKey: ['deliveries', 'diff', id] as const,
    queryFn: async ({ signal }) =>
      (await fetchJson<DeliveryComparisonsJson>(`/api/deliveries/${id}/diff`, { signal })).data,
  });
