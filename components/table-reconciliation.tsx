import { formatAge } from '@/lib/format';
import type { ReconciliationViewRow } from '@/lib/queries/types';
import { BadgeReconciliationClass } from './badge-reconciliation-class';
import { BadgeStatus } from './badge-status';
import { TextTime } from './text-time';
import { TextTimeZone } from './text-time-zone';

/** Provider deliveries as reconciled: class, what each side recorded, the time left and what to do. */
export function TableReconciliation({ rows }: { rows: ReconciliationViewRow[] }) {
  return (
    <table aria-label="Reconciled deliveries">
      <thead>
        <tr>
          <th scope="col">Class</th>
          <th scope="col">Event</th>
          <th scope="col">Delivery id</th>
          <th scope="col">Provider</th>
          <th scope="col">We answered</th>
          <th scope="col">Time left</th>
          <th scope="col">
            First sent (<TextTimeZone />)
          </th>
          <th scope="col">What to do</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.id} data-class={r.class}>
            <td>
              <BadgeReconciliationClass value={r.class} />
            </td>
            <td className="mono" style={{ whiteSpace: 'nowrap' }}>
              {r.event_type}
            </td>
            <td className="mono" title={r.delivery_id ?? undefined}>
              {r.delivery_id ? `${r.delivery_id.slice(0, 8)}…` : '—'}
            </td>
            <td>
              <BadgeStatus value={r.provider_status} />
              <div className="muted" style={{ whiteSpace: 'nowrap' }}>
                attempt {r.attempt_number}
              </div>
              <div className="muted">
                #{r.webhook_id} → {r.source ?? 'elsewhere'}
              </div>
            </td>
            <td>
              {r.our_http_status === null ? (
                <span className="muted">nothing reached us</span>
              ) : (
                <>
                  <span className="mono">{r.our_http_status}</span> {r.our_outcome}
                  {r.our_reason && <div className="muted">{r.our_reason}</div>}
                </>
              )}
            </td>
            <td className="time" data-testid="time-left">
              {r.time_left_ms !== null ? formatAge(r.time_left_ms) : r.exhausted ? 'lost' : '—'}
            </td>
            <td className="time">
              <TextTime iso={r.first_sent_at} />
            </td>
            <td style={{ minWidth: '12rem', overflowWrap: 'anywhere' }}>{r.advice}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
