'use client';

import { useQuery } from '@tanstack/react-query';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatPct } from '@/lib/format';
import { type MetricsFilters, retryRateOptions } from '@/lib/queries/metrics';
import { ChartFrame } from './chart-frame';

const SERIES = [
  { key: 'retry_rate', label: 'Retry rate', color: 'var(--chart-p95)' },
  { key: 'duplicate_rate', label: 'Duplicate rate', color: 'var(--outcome-duplicate)' },
  { key: 'stale_rate', label: 'Stale updates skipped', color: 'var(--outcome-ignored)' },
] as const;

export function ChartBarRetryRate({ filters }: { filters: MetricsFilters }) {
  const q = useQuery(retryRateOptions(filters));
  return (
    <ChartFrame
      title="Retry, duplicate and stale rate by event type"
      timeAxis={false}
      subtitle="Share of events needing more than one attempt; of deliveries that were duplicates; of events skipped as older than the stored state"
      query={q}
      empty={!q.data?.length}
    >
      <ResponsiveContainer width="100%" height="100%" initialDimension={{ width: 520, height: 240 }}>
        <BarChart data={q.data ?? []} margin={{ top: 8, right: 12, bottom: 0, left: 16 }}>
          <CartesianGrid stroke="var(--chart-grid)" vertical={false} />
          <XAxis dataKey="event_type" fontSize={11} interval={0} angle={-25} textAnchor="end" height={64} />
          <YAxis tickFormatter={(v: number) => formatPct(v)} width={52} fontSize={11} />
          <Tooltip formatter={(v) => formatPct(typeof v === 'number' ? v : null)} />
          <Legend />
          {SERIES.map((s) => (
            <Bar key={s.key} dataKey={s.key} name={s.label} fill={s.color} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}
