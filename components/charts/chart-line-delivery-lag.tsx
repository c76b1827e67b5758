'use client';

import { useQuery } from '@tanstack/react-query';
import { deliveryLagOptions, type MetricsFilters } from '@/lib/queries/metrics';
import { spanMs } from '@/lib/time-range';
import { ChartFrame } from './chart-frame';
import { ChartLineLatency } from './chart-line-latency';

export function ChartLineDeliveryLag({ filters }: { filters: MetricsFilters }) {
  const q = useQuery(deliveryLagOptions(filters));
  return (
    <ChartFrame
      title="Delivery lag"
      subtitle="Provider event time to arrival here (includes provider retries and clock skew)"
      query={q}
      empty={!q.data?.some((p) => p.count > 0)}
    >
      <ChartLineLatency points={q.data ?? []} longRange={spanMs(filters) >= 86_400_000} />
    </ChartFrame>
  );
}
