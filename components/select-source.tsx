'use client';

import { useQuery } from '@tanstack/react-query';
import { sourcesOptions } from '@/lib/queries/sources';

/** Filter by source (inbound endpoint); lists the configured ones, and keeps a value from the URL. */
export function SelectSource({
  value,
  onChange,
}: {
  value: string | null;
  onChange: (v: string | null) => void;
}) {
  const sources = useQuery(sourcesOptions());
  const slugs = sources.data?.map((s) => s.slug) ?? [];
  return (
    <label className="field">
      Source
      <select aria-label="Source" value={value ?? ''} onChange={(e) => onChange(e.target.value || null)}>
        <option value="">All sources</option>
        {sources.data?.map((s) => (
          <option key={s.slug} value={s.slug}>
            {s.slug} ({s.provider_label})
          </option>
        ))}
        {value && !slugs.includes(value) && <option value={value}>{value}</option>}
      </select>
    </label>
  );
}
