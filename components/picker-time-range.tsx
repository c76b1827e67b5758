'use client';

import { TIME_RANGES, type TimeRange } from '@/lib/metrics/buckets';

const LABELS: Record<TimeRange, string> = {
  '15m': 'Last 15 minutes',
  '1h': 'Last hour',
  '6h': 'Last 6 hours',
  '24h': 'Last 24 hours',
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
};

export function PickerTimeRange<T extends string = TimeRange>({
  value,
  onChange,
  extra,
}: {
  value: T;
  onChange: (v: T) => void;
  extra?: Array<{ value: T; label: string }>;
}) {
  return (
    <label className="field">
      Time range
      <select aria-label="Time range" value={value} onChange={(e) => onChange(e.target.value as T)}>
        {TIME_RANGES.map((r) => (
          <option key={r} value={r}>
            {LABELS[r]}
          </option>
        ))}
        {extra?.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}
