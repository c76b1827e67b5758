'use client';

import type { TokenRow } from '@/lib/queries/types';
import { TextTime } from './text-time';
import { TextTimeZone } from './text-time-zone';

export function TableTokens({
  tokens,
  busyId,
  onRevoke,
}: {
  tokens: TokenRow[];
  busyId: number | null;
  onRevoke: (id: number) => void;
}) {
  return (
    <table aria-label="API tokens">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Role</th>
          <th scope="col">Ends in</th>
          <th scope="col">
            Created (<TextTimeZone />)
          </th>
          <th scope="col">Last used</th>
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {tokens.map((t) => (
          <tr key={t.id}>
            <td>{t.name}</td>
            <td>{t.role}</td>
            <td className="mono">…{t.last4}</td>
            <td className="time">
              <TextTime iso={t.created_at} />
            </td>
            <td className="time">
              <TextTime iso={t.last_used_at} empty="never" />
            </td>
            <td>
              {t.revoked_at ? (
                <span className="muted">
                  revoked <TextTime iso={t.revoked_at} />
                </span>
              ) : (
                <button
                  type="button"
                  className="small danger"
                  disabled={busyId === t.id}
                  onClick={() => onRevoke(t.id)}
                  aria-label={`Revoke token ${t.name}`}
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
