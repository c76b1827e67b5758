'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { FormUserCreate } from '@/components/form-user-create';
import { NoteRole } from '@/components/note-role';
import { useMe } from '@/components/provider-me';
import { describeApiError, StateError } from '@/components/state-error';
import { StateLoading } from '@/components/state-loading';
import { TableUsers } from '@/components/table-users';
import type { Role } from '@/lib/auth/roles';
import { updateUser, usersQuery } from '@/lib/queries/users';

export function UsersClient() {
  const me = useMe();
  const qc = useQueryClient();
  const list = useQuery({ ...usersQuery(), enabled: me.role === 'admin' });
  const [message, setMessage] = useState<{ tone: 'ok' | 'bad'; text: string } | null>(null);
  const change = useMutation({
    mutationFn: (v: { id: number; patch: { role?: Role; disabled?: boolean } }) => updateUser(v.id, v.patch),
    onSuccess: (u) =>
      setMessage({
        tone: 'ok',
        text: `${u.email} is now ${u.disabled_at ? 'disabled' : 'active'} as ${u.role}.`,
      }),
    onError: (err) => setMessage({ tone: 'bad', text: describeApiError(err).detail }),
    onSettled: () => qc.invalidateQueries({ queryKey: ['users'] }),
  });
  if (me.role !== 'admin') return <NoteRole needed="admin" what="managing people" />;
  return (
    <>
      <div className="page-head">
        <h1>Users</h1>
      </div>
      <FormUserCreate />
      {message && (
        <div className="alert" data-tone={message.tone} role="status">
          {message.text}
        </div>
      )}
      <div className="table-wrap">
        {list.isPending ? (
          <StateLoading label="Loading users" rows={3} />
        ) : list.isError ? (
          <StateError error={list.error} onRetry={() => list.refetch()} />
        ) : (
          <TableUsers
            users={list.data}
            me={me.email}
            busyId={change.isPending ? change.variables.id : null}
            onChange={(id, patch) => change.mutate({ id, patch })}
          />
        )}
      </div>
    </>
  );
}
