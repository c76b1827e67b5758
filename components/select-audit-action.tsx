'use client';

import type { AuditAction } from '@/db/schema';
import { AUDIT_ACTION_LABELS } from '@/lib/audit-labels';

export function SelectAuditAction({
  value,
  onChange,
}: {
  value: AuditAction | null;
  onChange: (v: AuditAction | null) => void;
}) {
  return (
    <label className="field">
      Action
      <select value={value ?? ''} onChange={(e) => onChange((e.target.value || null) as AuditAction | null)}>
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
