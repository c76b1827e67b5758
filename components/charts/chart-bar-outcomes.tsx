'use client';

import { useQuery } from '@tanstack/react-query';
import {
  Bar,
  BarChart,
  type BarShapeProps,
  CartesianGrid,
  Legend,
  Rectangle,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { formatCount, formatTick, formatTime, zoneLabel } from '@/lib/format';
import { fillingBucket } from '@/lib/metrics/buckets';
import { type MetricsFilters, outcomesOptions } from '@/lib/queries/metrics';
import { serverClock } from '@/lib/server-clock';
import { resolveRange, spanMs } from '@/lib/time-range';
import { useTimeZone } from '@/lib/time-zone';
import { ChartFrame } from './chart-frame';

const SERIES = [
  { key: 'accepted', color: 'var(--outcome-accepted)' },
  { key: 'duplicate', color: 'var(--outcome-duplicate)' },
  { key: 'ignored', color: 'var(--outcome-ignored)' },
  { key: 'malformed', color: 'var(--outcome-malformed)' },
  { key: 'rejected', color: 'var(--outcome-rejected)' },
  { key: 'unavailable', color: 'var(--outcome-unavailable)' },
] as const;

export function ChartBarOutcomes({ filters }: { filters: MetricsFilters }) {
  const { timeZone } = useTimeZone();
  const q = useQuery(outcomesOptions(filters));
  const longRange = spanMs(filters) >= 86_400_000;
  const points = q.data ?? [];
  // As of the fetch, on the server's clock: the bucket that had not ended yet; or, a custom range
  // that ends before now, the bucket its end cuts.
  const asOf = (q.dataUpdatedAt || Date.now()) + serverClock.offsetMs;
  const range = resolveRange(filters);
  // A custom range only: an invalid one (a hand-edited URL) is read as the preset, which ends now.
  const rangeEnd = range.custom && range.to ? range.to.getTime() : Number.POSITIVE_INFINITY;
  const filling = fillingBucket(
    points.map((p) => p.t),
    Math.min(asOf, rangeEnd),
  );
  const fillingT = filling === null ? null : points[filling]!.t;
  const partly = rangeEnd < asOf ? 'covers part of its bucket (the range ends there)' : 'is still filling';
  const shape = (p: BarShapeProps) => <Rectangle {...p} fillOpacity={p.index === filling ? 0.4 : 1} />;
  return (
    <ChartFrame
      title="Outcomes"
      subtitle={`Receipts per bucket, stacked by what we answered${filling === null ? '' : `; the last bar (lighter) ${partly}`}`}
      query={q}
      empty={!q.data?.some((p) => SERIES.some((s) => p[s.key] > 0))}
    >
      <ResponsiveContainer width="100%" height="100%" initialDimension={{ width: 520, height: 240 }}>
        <BarChart data={points} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="var(--chart-grid)" vertical={false} />
          <XAxis
            dataKey="t"
            tickFormatter={(t: string) => formatTick(t, longRange, timeZone)}
            minTickGap={40}
            fontSize={11}
          />
          <YAxis
            tickFormatter={(v: number) => formatCount(v)}
            width={48}
            fontSize={11}
            allowDecimals={false}
          />
          <Tooltip
            labelFormatter={(t) =>
              `${formatTime(String(t), timeZone)} ${zoneLabel(timeZone)}${t === fillingT ? ` (${rangeEnd < asOf ? 'part of the bucket' : 'still filling'})` : ''}`
            }
          />
          <Legend />
          {SERIES.map((s) => (
            <Bar
              key={s.key}
              dataKey={s.key}
              stackId="outcomes"
              fill={s.color}
              shape={shape}
              isAnimationActive={false}
            />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}
