import type { AuditRow } from '@/lib/queries/types';
import { BadgeStatus } from './badge-status';
import { TextTime } from './text-time';
import { TextTimeZone } from './text-time-zone';

export function TableAudit({ rows }: { rows: AuditRow[] }) {
  return (
    <table aria-label="Audit log">
      <thead>
        <tr>
          <th scope="col">
            At (<TextTimeZone />)
          </th>
          <th scope="col">Action</th>
          <th scope="col">Target</th>
          <th scope="col">User</th>
          <th scope="col">Result</th>
          <th scope="col">Client</th>
          <th scope="col">Detail</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.id}>
            <td className="time">
              <TextTime iso={r.at} />
            </td>
            <td>
              <BadgeStatus value={r.action} />
            </td>
            <td className="mono">{r.target ?? '—'}</td>
            <td>
              {r.actor}
              {r.token_name && <div className="muted">token {r.token_name}</div>}
            </td>
            <td>{r.result === 'ok' ? 'ok' : `refused (${r.code ?? 'error'})`}</td>
            <td className="mono">{r.ip ?? '—'}</td>
            <td className="mono">{r.detail ? JSON.stringify(r.detail) : '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
