'use client';

import { useQuery } from '@tanstack/react-query';
import { healthOptions } from '@/lib/queries/health';

const TONE = { ok: 'ok', degraded: 'warn', down: 'bad' } as const;

/** Health from /api/health, and the sandbox badge so nobody mistakes demo traffic for production. */
export function StatusHealth() {
  const { data, isError } = useQuery(healthOptions());
  if (isError)
    return (
      <span className="badge" data-tone="bad">
        Health unknown
      </span>
    );
  if (!data) return <span className="badge">Checking…</span>;
  return (
    <div className="row" role="status" aria-label="System health">
      <span
        className="badge"
        data-tone={TONE[data.status]}
        title={`database ${data.db}, worker ${data.worker}, alert evaluation ${data.alerts}`}
      >
        {data.status === 'ok' ? 'Healthy' : data.status === 'degraded' ? 'Degraded' : 'Down'} · worker{' '}
        {data.worker}
        {data.alerts === 'stale' && ' · alerts not evaluated'}
      </span>
      {data.sandbox && <span className="badge badge-sandbox">Sandbox mode</span>}
    </div>
  );
}
