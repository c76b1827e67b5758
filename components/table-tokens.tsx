'use client';

import { formatTime } from '@/lib/format';
import type { TokenRow } from '@/lib/queries/types';

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
          <th scope="col">Created (UTC)</th>
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
            <td className="time">{formatTime(t.created_at)}</td>
            <td className="time">{t.last_used_at ? formatTime(t.last_used_at) : 'never'}</td>
            <td>
              {t.revoked_at ? (
                <span className="muted">revoked {formatTime(t.revoked_at)}</span>
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
