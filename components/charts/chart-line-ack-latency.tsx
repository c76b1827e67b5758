'use client';

import { useQuery } from '@tanstack/react-query';
import { ackLatencyOptions, type MetricsFilters } from '@/lib/queries/metrics';
import { spanMs } from '@/lib/time-range';
import { ChartFrame } from './chart-frame';
import { ChartLineLatency } from './chart-line-latency';

/** DESIGN.md: acks past ~1 s mean the inline pattern is outgrown (the provider times out at 30 s). */
export const ACK_BUDGET_MS = 1000;

export function ChartLineAckLatency({ filters }: { filters: MetricsFilters }) {
  const q = useQuery(ackLatencyOptions(filters));
  return (
    <ChartFrame
      title="Ack latency"
      subtitle="Time from request to our 2xx; dashed line: 1 s budget"
      query={q}
      empty={!q.data?.some((p) => p.count > 0)}
    >
      <ChartLineLatency
        points={q.data ?? []}
        longRange={spanMs(filters) >= 86_400_000}
        threshold={{ value: ACK_BUDGET_MS, label: '1 s budget' }}
      />
    </ChartFrame>
  );
}
