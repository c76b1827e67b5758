'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import type { Role } from '@/lib/auth/roles';
import { createUser } from '@/lib/queries/users';
import { ButtonCopy } from './button-copy';
import { describeApiError } from './state-error';

/** Adds a person; without a password the server answers a one-time one, shown here once. */
export function FormUserCreate() {
  const qc = useQueryClient();
  const [created, setCreated] = useState<{ email: string; password?: string } | null>(null);
  const add = useMutation({
    mutationFn: createUser,
    onSuccess: (u) => {
      setCreated({ email: u.email, password: u.one_time_password });
      return qc.invalidateQueries({ queryKey: ['users'] });
    },
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const password = String(f.get('password') ?? '');
    setCreated(null);
    add.mutate(
      {
        email: String(f.get('email') ?? ''),
        role: String(f.get('role')) as Role,
        ...(password ? { password } : {}),
      },
      { onSuccess: () => form.reset() },
    );
  };
  return (
    <form className="panel stack" onSubmit={submit} aria-label="Add a user">
      <div className="toolbar">
        <label className="field">
          Email
          <input type="email" name="email" required maxLength={254} autoComplete="off" />
        </label>
        <label className="field">
          Role
          <select name="role" defaultValue="viewer">
            <option value="viewer">viewer: reads everything</option>
            <option value="operator">operator: retries, discards, toggles webhooks</option>
            <option value="admin">admin: also people and configuration</option>
          </select>
        </label>
        <label className="field">
          Password (optional)
          <input type="password" name="password" minLength={12} autoComplete="new-password" />
        </label>
        <button type="submit" className="primary" disabled={add.isPending}>
          {add.isPending ? 'Adding…' : 'Add user'}
        </button>
      </div>
      {add.isError && (
        <div className="alert" data-tone="bad" role="alert" style={{ margin: 0 }}>
          {describeApiError(add.error).detail}
        </div>
      )}
      {created && (
        <div className="alert" data-tone="ok" role="status" style={{ margin: 0 }}>
          Added {created.email}.
          {created.password && (
            <>
              {' '}
              One-time password (shown once; pass it on safely):{' '}
              <code className="mono" data-testid="one-time-password">
                {created.password}
              </code>{' '}
              <ButtonCopy text={created.password} label="Copy password" />
            </>
          )}
        </div>
      )}
    </form>
  );
}
