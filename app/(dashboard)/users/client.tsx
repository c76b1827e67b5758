'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ButtonCopy } from '@/components/button-copy';
import { DialogConfirm } from '@/components/dialog-confirm';
import { FormUserCreate } from '@/components/form-user-create';
import { NoteRole } from '@/components/note-role';
import { useMe } from '@/components/provider-me';
import { describeApiError, StateError } from '@/components/state-error';
import { StateLoading } from '@/components/state-loading';
import { TableUsers } from '@/components/table-users';
import type { Role } from '@/lib/auth/roles';
import type { UserRow } from '@/lib/queries/types';
import { resetPassword, updateUser, usersQuery } from '@/lib/queries/users';

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
  const [resetting, setResetting] = useState<UserRow | null>(null);
  const [reset, setReset] = useState<{ email: string; password: string } | null>(null);
  const resetMutation = useMutation({
    mutationFn: (u: UserRow) => resetPassword(u.id),
    onMutate: () => {
      setReset(null);
      setMessage(null);
    },
    onSuccess: (r) => setReset({ email: r.email, password: r.one_time_password }),
    onError: (err) => setMessage({ tone: 'bad', text: describeApiError(err).detail }),
    onSettled: () => setResetting(null),
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
      {reset && (
        <div className="alert" data-tone="ok" role="status">
          New password for {reset.email} (shown once; pass it on safely; their sessions have ended):{' '}
          <code className="mono" data-testid="reset-password">
            {reset.password}
          </code>{' '}
          <ButtonCopy text={reset.password} label="Copy password" />
        </div>
      )}
      {resetting && (
        <DialogConfirm
          title={`Reset the password of ${resetting.email}?`}
          confirmLabel="Reset password"
          danger
          busy={resetMutation.isPending}
          onConfirm={() => resetMutation.mutate(resetting)}
          onCancel={() => setResetting(null)}
        >
          A new one-time password replaces theirs, shown to you once, and every session of theirs ends. Their
          API tokens stay: disable the person to revoke those too.
        </DialogConfirm>
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
            busyId={
              change.isPending
                ? change.variables.id
                : resetMutation.isPending
                  ? resetMutation.variables.id
                  : null
            }
            onChange={(id, patch) => change.mutate({ id, patch })}
            onResetPassword={setResetting}
          />
        )}
      </div>
    </>
  );
}
