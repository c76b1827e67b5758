'use client';

import type { Role } from '@/lib/auth/roles';
import type { UserRow } from '@/lib/queries/types';
import { TextTime } from './text-time';
import { TextTimeZone } from './text-time-zone';

export function TableUsers({
  users,
  me,
  busyId,
  onChange,
  onResetPassword,
}: {
  users: UserRow[];
  me: string;
  busyId: number | null;
  onChange: (id: number, patch: { role?: Role; disabled?: boolean }) => void;
  onResetPassword: (u: UserRow) => void;
}) {
  return (
    <table aria-label="Users">
      <thead>
        <tr>
          <th scope="col">Email</th>
          <th scope="col">Role</th>
          <th scope="col">State</th>
          <th scope="col">
            Created (<TextTimeZone />)
          </th>
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {users.map((u) => (
          <tr key={u.id}>
            <td>
              {u.email}
              {u.email === me && <span className="muted"> (you)</span>}
            </td>
            <td>
              <select
                aria-label={`Role of ${u.email}`}
                value={u.role}
                disabled={busyId === u.id}
                onChange={(e) => onChange(u.id, { role: e.target.value as Role })}
              >
                <option value="viewer">viewer</option>
                <option value="operator">operator</option>
                <option value="admin">admin</option>
              </select>
            </td>
            <td>
              {u.disabled_at ? (
                <>
                  disabled <TextTime iso={u.disabled_at} />
                </>
              ) : (
                'active'
              )}
            </td>
            <td className="time">
              <TextTime iso={u.created_at} />
            </td>
            <td>
              <button
                type="button"
                className={u.disabled_at ? 'small' : 'small danger'}
                disabled={busyId === u.id}
                onClick={() => onChange(u.id, { disabled: !u.disabled_at })}
                aria-label={`${u.disabled_at ? 'Enable' : 'Disable'} ${u.email}`}
              >
                {u.disabled_at ? 'Enable' : 'Disable'}
              </button>{' '}
              <button
                type="button"
                className="small"
                disabled={busyId === u.id}
                onClick={() => onResetPassword(u)}
                aria-label={`Reset the password of ${u.email}`}
              >
                Reset password
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
