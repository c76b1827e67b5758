'use client';

import { setTimeZoneChoice, type TimeZoneChoice, useTimeZone } from '@/lib/time-zone';

/** UTC or the browser's zone for every time on every page; remembered in this browser. */
export function SwitchTimeZone() {
  const { choice } = useTimeZone();
  return (
    <label className="field">
      Times in
      <select
        aria-label="Times in"
        value={choice}
        onChange={(e) => setTimeZoneChoice(e.target.value as TimeZoneChoice)}
      >
        <option value="utc">UTC</option>
        <option value="local">Browser's zone</option>
      </select>
    </label>
  );
}
