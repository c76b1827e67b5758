'use client';

import { AUDIT_ACTION_LABELS } from '@/lib/audit-labels';

export function SelectAuditAction({
  value,
  onChange,
}: {
  value: string | undefined;
  onChange: (v: string | undefined) => void;
}) {
  return (
    <label className="field">
      Action
      <select value={value ?? ''} onChange={(e) => onChange(e.target.value || undefined)}>
        <option value="">All actions</option>
        {Object.entries(AUDIT_ACTION_LABELS).map(([v, label]) => (
          <option key={v} value={v}>
            {label}
          </option>
        ))}
      </select>
    </label>
  );
}
