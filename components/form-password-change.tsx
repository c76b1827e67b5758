'use client';

import { useMutation } from '@tanstack/react-query';
import type { FormEvent } from 'react';
import { changePassword } from '@/lib/queries/account';
import { describeApiError } from './state-error';

/** Changing the password ends every other session; the server answers a fresh cookie for this one. */
export function FormPasswordChange({ onChanged }: { onChanged: () => void }) {
  const change = useMutation({ mutationFn: changePassword, onSuccess: onChanged });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    change.mutate(
      { current_password: String(f.get('current') ?? ''), new_password: String(f.get('next') ?? '') },
      { onSuccess: () => form.reset() },
    );
  };
  return (
    <form className="panel stack" onSubmit={submit} aria-labelledby="password-title">
      <h2 id="password-title">Change password</h2>
      <div className="toolbar">
        <label className="field">
          Current password
          <input type="password" name="current" required autoComplete="current-password" />
        </label>
        <label className="field">
          New password (12+ characters)
          <input type="password" name="next" required minLength={12} autoComplete="new-password" />
        </label>
        <button type="submit" className="primary" disabled={change.isPending}>
          {change.isPending ? 'Changing…' : 'Change password'}
        </button>
      </div>
      {change.isError && (
        <div className="alert" data-tone="bad" role="alert" style={{ margin: 0 }}>
          {describeApiError(change.error).detail}
        </div>
      )}
      {change.isSuccess && (
        <div className="alert" data-tone="ok" role="status" style={{ margin: 0 }}>
          Password changed. Every other session has ended.
        </div>
      )}
    </form>
  );
}
