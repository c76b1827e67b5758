'use client';

import { KNOWN_EVENTS } from '@/lib/providers/skylight/protocol';

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
        {KNOWN_EVENTS.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
        {value && !(KNOWN_EVENTS as readonly string[]).includes(value) && (
          <option value={value}>{value}</option>
        )}
      </select>
    </label>
  );
}
