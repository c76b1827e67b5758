import type { SourceRowJson } from '@/lib/queries/types';

/** Inbound endpoints: where each provider posts, whether it is on, and which secrets (last 4 only). */
export function TableSources({
  sources,
  busySlug,
  locked,
  onToggle,
  onManage,
}: {
  sources: SourceRowJson[];
  busySlug: string | null;
  /** Why this person may not switch sources (their role), if so. */
  locked?: string;
  onToggle: (s: SourceRowJson) => void;
  onManage: (s: SourceRowJson) => void;
}) {
  return (
    <table aria-label="Sources">
      <thead>
        <tr>
          <th scope="col">Source</th>
          <th scope="col">Provider</th>
          <th scope="col">Endpoint</th>
          <th scope="col">Secrets</th>
          <th scope="col">Enabled</th>
        </tr>
      </thead>
      <tbody>
        {sources.map((s) => (
          <tr key={s.slug}>
            <td>
              <strong>{s.slug}</strong>
              <div className="muted" style={{ fontSize: '0.75rem' }}>
                {s.origin === 'environment' ? 'from the environment' : 'added in the dashboard'}
              </div>
            </td>
            <td>{s.provider_label}</td>
            <td className="mono">POST {s.path}</td>
            <td>
              <span className="mono" style={{ fontSize: '0.8rem' }}>
                {s.secrets.map((k) => `…${k.last4}`).join(', ') || '—'}
              </span>{' '}
              <button type="button" onClick={() => onManage(s)} aria-label={`Secrets of ${s.slug}`}>
                Secrets…
              </button>
            </td>
            <td>
              {s.origin === 'environment' ? (
                <span className="muted" style={{ fontSize: '0.8rem' }}>
                  always on
                </span>
              ) : (
                <div className="row">
                  <button
                    type="button"
                    role="switch"
                    className="switch"
                    aria-checked={s.enabled}
                    aria-label={`Enabled: ${s.slug}`}
                    disabled={busySlug === s.slug || !!locked}
                    title={locked}
                    onClick={() => onToggle(s)}
                  />
                  <span className="muted" style={{ fontSize: '0.8rem' }}>
                    {s.enabled ? 'on' : 'off'}
                  </span>
                </div>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
