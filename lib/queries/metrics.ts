import { queryOptions } from '@tanstack/react-query';
import type { TimeRange } from '@/lib/metrics/buckets';
import { rangeParams } from '@/lib/time-range';
import { fetchJson, qs } from './fetch-json';
import { REFRESH_MS } from './query-client';
import type { LatencyPoint, OutcomePoint, RetryRateRow, Summary } from './types';

export type MetricsFilters = {
  range: TimeRange;
  from?: Date | null;
  to?: Date | null;
  event_type?: string | null;
  source?: string | null;
};

const live = { refetchInterval: REFRESH_MS, refetchIntervalInBackground: false } as const;

function metric<T>(kind: string, f: MetricsFilters) {
  return queryOptions({
    queryKey: ['metrics', kind, f] as const,
    queryFn: async ({ signal }) =>
      (
        await fetchJson<T>(
          `/api/metrics/${kind}${qs({
            // Resolved at fetch time, so every refresh slides a preset to "now".
            ...rangeParams(f),
            event_type: f.event_type,
            source: f.source,
          })}`,
          { signal },
        )
      ).data,
    ...live,
  });
}

export const summaryOptions = (f: MetricsFilters) => metric<Summary>('summary', f);
export const ackLatencyOptions = (f: MetricsFilters) => metric<LatencyPoint[]>('ack-latency', f);
export const deliveryLagOptions = (f: MetricsFilters) => metric<LatencyPoint[]>('delivery-lag', f);
export const outcomesOptions = (f: MetricsFilters) => metric<OutcomePoint[]>('outcomes', f);
export const retryRateOptions = (f: MetricsFilters) => metric<RetryRateRow[]>('retry-rate', f);
