'use client';

import { useQuery } from '@tanstack/react-query';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { type MetricsFilters, retryRateOptions } from '@/lib/queries/metrics';
import { ChartFrame } from './chart-frame';

const CONFIG = { key: 'dead', label: 'Dead letters', color: 'var(--bad)' } as const;

export function ChartBarDeadLetters({ filters }: { filters: MetricsFilters }) {
  const q = useQuery(retryRateOptions(filters));
  return (
    <ChartFrame
      title="Dead letters by event type"
      timeAxis={false}
      subtitle="Events created in this range that are dead now"
      query={q}
      empty={!q.data?.some((r) => r.dead > 0)}
      emptyText="No event created in this range is dead."
    >
      <ResponsiveContainer width="100%" height="100%" initialDimension={{ width: 520, height: 240 }}>
        <BarChart data={q.data ?? []} margin={{ top: 8, right: 12, bottom: 0, left: 16 }}>
          <CartesianGrid stroke="var(--chart-grid)" vertical={false} />
          <XAxis dataKey="event_type" fontSize={11} interval={0} angle={-25} textAnchor="end" height={64} />
          <YAxis allowDecimals={false} width={40} fontSize={11} />
          <Tooltip />
          <Bar dataKey={CONFIG.key} name={CONFIG.label} fill={CONFIG.color} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}
