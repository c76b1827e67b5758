'use client';

import { type FormEvent, useState } from 'react';
import { TIME_RANGES, type TimeRange } from '@/lib/metrics/buckets';
import { customRangeProblem, fromWallClock, isPreset, resolveRange, toWallClock } from '@/lib/time-range';
import { useTimeZone } from '@/lib/time-zone';
import { TextTimeZone } from './text-time-zone';

const LABELS: Record<TimeRange, string> = {
  '15m': 'Last 15 minutes',
  '1h': 'Last hour',
  '6h': 'Last 6 hours',
  '24h': 'Last 24 hours',
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
};
const CUSTOM = 'custom';

export type TimeRangeValue<T extends string> = { range: T; from: Date | null; to: Date | null };

/**
 * A preset (sliding to "now") or a custom absolute range, typed in the zone the operator shows times
 * in. Choosing a preset clears the custom range; an invalid custom range is refused here with the
 * same message the API gives.
 */
export function PickerTimeRange<T extends string = TimeRange>({
  value,
  onChange,
  extra,
}: {
  value: TimeRangeValue<T>;
  onChange: (v: TimeRangeValue<T>) => void;
  extra?: Array<{ value: T; label: string }>;
}) {
  const { timeZone } = useTimeZone();
  const applied = resolveRange({ range: 'all', from: value.from, to: value.to }).custom;
  const [editing, setEditing] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const custom = applied || editing;
  // Opening the form starts from the window on screen, so narrowing it is a small edit.
  const shown = resolveRange({
    range: isPreset(value.range) ? value.range : '1h',
    from: value.from,
    to: value.to,
  });

  function apply(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const from = fromWallClock(String(form.get('from') ?? ''), timeZone);
    const to = fromWallClock(String(form.get('to') ?? ''), timeZone);
    const why = !from || !to ? 'give both times' : customRangeProblem(from, to);
    setProblem(why);
    if (why || !from || !to) return;
    setEditing(false);
    onChange({ range: value.range, from, to });
  }

  return (
    <div className="row" style={{ alignItems: 'flex-end', flexWrap: 'wrap' }}>
      <label className="field">
        Time range
        <select
          aria-label="Time range"
          value={custom ? CUSTOM : value.range}
          onChange={(e) => {
            setProblem(null);
            if (e.target.value === CUSTOM) return setEditing(true);
            setEditing(false);
            onChange({ range: e.target.value as T, from: null, to: null });
          }}
        >
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
          <option value={CUSTOM}>Custom range…</option>
        </select>
      </label>
      {custom && (
        // Keyed by the zone and the applied range: the inputs start over when either changes.
        <form
          key={`${timeZone}|${value.from?.getTime()}|${value.to?.getTime()}`}
          className="row"
          style={{ alignItems: 'flex-end', flexWrap: 'wrap' }}
          onSubmit={apply}
          aria-label="Custom range"
        >
          <label className="field">
            <span>
              From (<TextTimeZone />)
            </span>
            <input
              type="datetime-local"
              name="from"
              aria-label="From"
              defaultValue={shown.from ? toWallClock(shown.from, timeZone) : ''}
            />
          </label>
          <label className="field">
            <span>
              To (<TextTimeZone />)
            </span>
            <input
              type="datetime-local"
              name="to"
              aria-label="To"
              defaultValue={shown.to ? toWallClock(shown.to, timeZone) : ''}
            />
          </label>
          <button type="submit">Apply</button>
          {problem && (
            <p role="alert" className="alert" data-tone="bad" style={{ margin: 0 }}>
              {problem}
            </p>
          )}
        </form>
      )}
    </div>
  );
}
