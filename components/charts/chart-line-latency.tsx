'use client';

import {
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { formatMs, formatTick, formatTime, zoneLabel } from '@/lib/format';
import { clampOutliers } from '@/lib/metrics/outliers';
import type { LatencyPoint } from '@/lib/queries/types';
import { useTimeZone } from '@/lib/time-zone';

const SERIES = [
  { key: 'p50', label: 'p50', color: 'var(--chart-p50)' },
  { key: 'p95', label: 'p95', color: 'var(--chart-p95)' },
  { key: 'p99', label: 'p99', color: 'var(--chart-p99)' },
] as const;

/**
 * p50/p95/p99 lines over time, with an optional threshold line. Used by the ack and lag charts.
 * Outliers are drawn at a cap (see lib/metrics/outliers.ts), and the chart says so under the plot.
 */
export function ChartLineLatency({
  points,
  longRange,
  threshold,
}: {
  points: LatencyPoint[];
  longRange: boolean;
  threshold?: { value: number; label: string };
}) {
  const { timeZone } = useTimeZone();
  // Dots while data points are few, so a lone bucket between gaps still shows.
  const sparse = points.filter((p) => p.count > 0).length <= 60;
  const shown = clampOutliers(points, ['p50', 'p95', 'p99'] as const);
  return (
    <>
      <ResponsiveContainer
        width="100%"
        height={shown.cap === null ? '100%' : '88%'}
        initialDimension={{ width: 520, height: 240 }}
      >
        <LineChart data={shown.points} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="var(--chart-grid)" vertical={false} />
          <XAxis
            dataKey="t"
            tickFormatter={(t: string) => formatTick(t, longRange, timeZone)}
            minTickGap={40}
            fontSize={11}
          />
          {/* Log scale: a 5 ms median and the 1 s budget are both readable on one axis. */}
          <YAxis
            scale="log"
            domain={['auto', shown.cap ?? 'auto']}
            allowDataOverflow
            tickFormatter={(v: number) => formatMs(v)}
            width={64}
            fontSize={11}
          />
          <Tooltip
            labelFormatter={(t) => `${formatTime(String(t), timeZone)} ${zoneLabel(timeZone)}`}
            formatter={(v, _name, item) => {
              const raw = (item.payload as (typeof shown.points)[number]).raw[
                item.dataKey as 'p50' | 'p95' | 'p99'
              ];
              if (raw === undefined) return formatMs(typeof v === 'number' ? v : null);
              return raw <= 0 ? `${formatMs(raw)} (drawn at the axis floor)` : `${formatMs(raw)} (outlier)`;
            }}
          />
          <Legend />
          {threshold && (
            <ReferenceLine
              y={threshold.value}
              stroke="var(--chart-threshold)"
              strokeDasharray="5 4"
              label={{ value: threshold.label, position: 'insideTopRight', fontSize: 11 }}
              ifOverflow="extendDomain"
            />
          )}
          {SERIES.map((s) => (
            <Line
              key={s.key}
              dataKey={s.key}
              name={s.label}
              stroke={s.color}
              dot={sparse ? { r: 2 } : false}
              strokeWidth={s.key === 'p95' ? 2 : 1.5}
              isAnimationActive={false}
              connectNulls={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
      {shown.cap !== null && (
        <p className="chart-note" role="note">
          {shown.clamped} value{shown.clamped === 1 ? '' : 's'} above {formatMs(shown.cap)} (10× the usual)
          drawn at the top edge so the rest stays readable; hover for the real value.
        </p>
      )}
    </>
  );
}
