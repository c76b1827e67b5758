import Link from 'next/link';
import { formatMs } from '@/lib/format';
import { eventNote } from '@/lib/providers/catalog';
import type { DeliveryRow } from '@/lib/queries/types';
import { BadgeStatus } from './badge-status';
import { CellSource } from './cell-source';
import { TextTime } from './text-time';
import { TextTimeZone } from './text-time-zone';

/**
 * A refused request's own word for what it was (its headers, unverified): shown as a claim, as text,
 * never as a link or a filter.
 */
function Claimed({ value }: { value: string | null }) {
  if (value === null) return <span className="muted">nothing claimed</span>;
  return (
    <span className="claimed" title="What the refused request claimed; not verified">
      <span className="muted">claimed </span>
      {value}
    </span>
  );
}

export function TableDeliveries({ rows }: { rows: DeliveryRow[] }) {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">
            Received (<TextTimeZone />)
          </th>
          <th scope="col">Source</th>
          <th scope="col">Delivery id</th>
          <th scope="col">Event</th>
          <th scope="col">Outcome</th>
          <th scope="col">Processing</th>
          <th scope="col">HTTP</th>
          <th scope="col">Ack</th>
          <th scope="col">Lag</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.id}>
            <td className="time">
              <Link href={`/deliveries/${r.id}`} aria-label={`Open delivery ${r.delivery_id ?? r.id}`}>
                <TextTime iso={r.received_at} />
              </Link>
            </td>
            <CellSource source={r.source} provider={r.provider} />
            <td className="mono">
              {r.outcome === 'rejected' ? (
                <Claimed value={r.claimed_delivery_id} />
              ) : (
                (r.delivery_id ?? <span className="muted">none</span>)
              )}
              {r.attempt_id && r.attempt_id !== r.delivery_id && (
                <div className="muted" style={{ fontSize: '0.75rem' }}>
                  attempt {r.attempt_id}
                </div>
              )}
            </td>
            <td>
              {r.outcome === 'rejected' ? (
                <Claimed value={r.claimed_event_type} />
              ) : (
                (r.event_type ?? <span className="muted">—</span>)
              )}
              {r.provider && r.event_type && eventNote(r.provider, r.event_type) && (
                <div className="muted" style={{ fontSize: '0.78rem' }}>
                  {eventNote(r.provider, r.event_type)}
                </div>
              )}
            </td>
            <td>
              <BadgeStatus value={r.outcome} />
              {r.reason && (
                <div className="muted" style={{ fontSize: '0.78rem' }}>
                  {r.reason}
                </div>
              )}
            </td>
            <td>
              {r.event_status === 'dead' && r.event_id !== null ? (
                <Link
                  href={`/dlq?q=${encodeURIComponent(r.delivery_id ?? '')}&selected=${r.event_id}`}
                  aria-label={`Dead letter of ${r.delivery_id ?? r.id}`}
                >
                  <BadgeStatus value="dead" />
                </Link>
              ) : r.event_status ? (
                <BadgeStatus value={r.event_status} />
              ) : (
                <span className="muted">—</span>
              )}
            </td>
            <td className="num">{r.http_status}</td>
            <td className="num">{formatMs(r.ack_ms)}</td>
            <td className="num">{formatMs(r.lag_ms)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
