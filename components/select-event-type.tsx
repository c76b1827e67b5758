'use client';

import { ALL_KNOWN_EVENTS } from '@/lib/providers/catalog';

export function SelectEventType({
  value,
  onChange,
}: {
  value: string | null;
  onChange: (v: string | null) => void;
}) {
  return (
    <label className="field">
      Event type
      <select aria-label="Event type" value={value ?? ''} onChange={(e) => onChange(e.target.value || null)}>
        <option value="">All event types</option>
        {ALL_KNOWN_EVENTS.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
        {value && !ALL_KNOWN_EVENTS.includes(value) && <option value={value}>{value}</option>}
      </select>
    </label>
  );
}
