'use client';

import type { SessionRow } from '@/lib/queries/types';
import { TextTime } from './text-time';
import { TextTimeZone } from './text-time-zone';

export function TableSessions({
  sessions,
  busyId,
  onRevoke,
}: {
  sessions: SessionRow[];
  busyId: number | null;
  onRevoke: (id: number) => void;
}) {
  return (
    <table aria-label="Sessions">
      <thead>
        <tr>
          <th scope="col">
            Started (<TextTimeZone />)
          </th>
          <th scope="col">Last seen</th>
          <th scope="col">Expires</th>
          <th scope="col">Client</th>
          <th scope="col">Browser</th>
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {sessions.map((s) => (
          <tr key={s.id}>
            <td className="time">
              <TextTime iso={s.created_at} />
            </td>
            <td className="time">
              <TextTime iso={s.last_seen_at} />
            </td>
            <td className="time">
              <TextTime iso={s.expires_at} />
            </td>
            <td className="mono">{s.ip ?? '—'}</td>
            <td style={{ fontSize: '0.8rem' }}>{s.user_agent ?? '—'}</td>
            <td>
              {s.current ? (
                <span className="muted">this session</span>
              ) : (
                <button
                  type="button"
                  className="small danger"
                  disabled={busyId === s.id}
                  onClick={() => onRevoke(s.id)}
                  aria-label={`Revoke session ${s.id}`}
                >
                  Revoke
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
