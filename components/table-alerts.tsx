import { formatAge, formatTime } from '@/lib/format';
import type { AlertRowJson } from '@/lib/queries/alerts';
import { serverNow } from '@/lib/server-clock';
import { TextTime } from './text-time';
import { TextTimeZone } from './text-time-zone';

const SEVERITY_TONE = { critical: 'bad', warning: 'warn' } as const;
const STATE_TONE = { open: 'bad', acknowledged: 'info', resolved: 'ok' } as const;

type AtRisk = {
  delivery_id?: string | null;
  event_id?: number;
  event_type?: string;
  reason?: string | null;
  error?: string | null;
  at?: string;
  deadline_at?: string | null;
  lost?: boolean;
};

/** Time left before the provider gives up (or the retention deadline), or "lost". */
function TimeLeft({
  deadline,
  lost,
  now,
}: {
  deadline: string | null | undefined;
  lost?: boolean;
  now: number;
}) {
  if (lost)
    return (
      <span className="badge" data-tone="bad">
        lost
      </span>
    );
  if (!deadline) return null;
  const left = new Date(deadline).getTime() - now;
  return left > 0 ? (
    <span className="badge" data-tone="warn" title={`Deadline ${formatTime(deadline)} UTC`}>
      {formatAge(left)} left
    </span>
  ) : (
    <span className="badge" data-tone="bad">
      deadline passed
    </span>
  );
}

/**
 * Alert incidents: what, where, since when and for how long; the events at risk with the time left
 * before the provider gives up; what to do. Open ones can be acknowledged.
 */
export function TableAlerts({
  rows,
  label,
  busyId,
  locked,
  onAcknowledge,
}: {
  rows: AlertRowJson[];
  label: string;
  busyId: number | null;
  locked: string | undefined;
  onAcknowledge?: (a: AlertRowJson) => void;
}) {
  const now = serverNow();
  return (
    <table aria-label={label}>
      <thead>
        <tr>
          <th scope="col">Severity</th>
          <th scope="col">Alert</th>
          <th scope="col">What happened</th>
          <th scope="col">State</th>
          <th scope="col">
            Opened (<TextTimeZone />)
          </th>
          <th scope="col" title="Until resolved, or until now">
            Duration
          </th>
          {onAcknowledge && <th scope="col">Action</th>}
        </tr>
      </thead>
      <tbody>
        {rows.map((a) => {
          const d = a.detail as {
            at_risk?: AtRisk[];
            deadline_at?: string | null;
            lost?: boolean;
            action?: string;
            evidence?: Record<string, unknown>;
          };
          const end = a.resolved_at ? new Date(a.resolved_at).getTime() : now;
          const delivered = a.notifications.filter((n) => n.delivered_at).length;
          return (
            <tr key={a.id} data-testid={`alert-${a.rule}`}>
              <td>
                <span className="badge" data-tone={SEVERITY_TONE[a.severity]}>
                  {a.severity}
                </span>
              </td>
              <td>
                <strong>{a.rule}</strong>
                <div className="mono muted" style={{ fontSize: '0.75rem' }}>
                  {a.subject}
                </div>
              </td>
              <td style={{ maxWidth: '36rem' }}>
                <div>
                  {a.summary} <TimeLeft deadline={d.deadline_at} lost={d.lost} now={now} />
                </div>
                {d.action && (
                  <div className="muted" style={{ fontSize: '0.8rem' }}>
                    {d.action}
                  </div>
                )}
                {(d.at_risk?.length ?? 0) > 0 && (
                  <details>
                    <summary>Events at risk ({d.at_risk!.length})</summary>
                    <ul className="mono" style={{ fontSize: '0.75rem' }}>
                      {d.at_risk!.map((e, i) => (
                        <li key={`${e.delivery_id ?? e.event_id ?? i}`}>
                          {e.event_type ?? e.reason ?? ''} {e.delivery_id ?? ''}{' '}
                          <TextTime iso={e.at} empty="" />{' '}
                          <TimeLeft deadline={e.deadline_at} lost={e.lost} now={now} />
                          {e.error ? ` ${e.error}` : ''}
                        </li>
                      ))}
                    </ul>
                  </details>
                )}
                <div className="muted" style={{ fontSize: '0.75rem' }}>
                  Channel: {delivered}/{a.notifications.length} message(s) posted
                  {a.notifications.some((n) => n.last_error && !n.delivered_at)
                    ? ` · last error: ${a.notifications.findLast((n) => n.last_error)?.last_error}`
                    : ''}
                </div>
              </td>
              <td>
                <span className="badge" data-tone={STATE_TONE[a.state]}>
                  {a.state}
                </span>
                {a.acknowledged_by && (
                  <div className="muted" style={{ fontSize: '0.75rem' }}>
                    by {a.acknowledged_by}
                  </div>
                )}
              </td>
              <td className="time">
                <TextTime iso={a.opened_at} />
              </td>
              <td className="num">{formatAge(end - new Date(a.opened_at).getTime())}</td>
              {onAcknowledge && (
                <td>
                  {a.state === 'open' && (
                    <button
                      type="button"
                      className="small"
                      disabled={locked !== undefined || busyId === a.id}
                      title={locked}
                      onClick={() => onAcknowledge(a)}
                    >
                      Acknowledge
                    </button>
                  )}
                </td>
              )}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
