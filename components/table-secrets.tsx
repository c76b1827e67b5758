import { formatAge } from '@/lib/format';
import type { SourceSecretsJson } from '@/lib/queries/types';
import { TextTime } from './text-time';

type Secret = SourceSecretsJson['secrets'][number];

const STATUS_TEXT: Record<Secret['status'], string> = {
  active: 'active',
  expiring: 'overlap: still accepted',
  retired: 'retired',
};

/** A source's signing secrets: label and last 4 only, when each last matched, and its share. */
export function TableSecrets({
  view,
  now,
  busyId,
  locked,
  onRetire,
}: {
  view: SourceSecretsJson;
  now: number;
  busyId: number | null;
  locked?: string;
  onRetire: (s: Secret) => void;
}) {
  const activeCount = view.secrets.filter((s) => s.status !== 'retired').length;
  return (
    <table aria-label={`Signing secrets of ${view.slug}`}>
      <thead>
        <tr>
          <th scope="col">Secret</th>
          <th scope="col">Status</th>
          <th scope="col">Created</th>
          <th scope="col">Last matched</th>
          <th scope="col">Expires</th>
          <th scope="col">Last {view.window.toLocaleString('en-US')} deliveries</th>
          <th scope="col" aria-label="Actions" />
        </tr>
      </thead>
      <tbody>
        {view.secrets.map((s) => (
          <tr key={s.id ?? `env-${s.label}`} data-status={s.status}>
            <td>
              <strong>{s.label ?? 'unlabelled'}</strong>
              <div className="mono muted">…{s.last4}</div>
            </td>
            <td>{STATUS_TEXT[s.status]}</td>
            <td className="mono">
              <TextTime iso={s.created_at} />
            </td>
            <td>{s.last_matched_at ? `${formatAge(now - Date.parse(s.last_matched_at))} ago` : 'never'}</td>
            <td className="mono">
              <TextTime iso={s.expires_at} />
            </td>
            <td>{share(s.recent_matches, view.recent_total)}</td>
            <td>
              {s.id !== null && s.status !== 'retired' && activeCount > 1 && (
                <button
                  type="button"
                  className="danger"
                  disabled={busyId === s.id || locked !== undefined}
                  title={locked}
                  onClick={() => onRetire(s)}
                >
                  Retire now
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function share(n: number, total: number): string {
  if (total === 0) return '—';
  const pct = (100 * n) / total;
  return `${pct > 0 && pct < 1 ? '<1' : Math.round(pct)} %`;
}
