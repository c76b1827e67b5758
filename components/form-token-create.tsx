'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { hasRole, ROLE_NAMES, type Role } from '@/lib/auth/roles';
import { createToken } from '@/lib/queries/account';
import { ButtonCopy } from './button-copy';
import { useMe } from './provider-me';
import { describeApiError } from './state-error';

/** Creates a personal API token with a role up to the person's own; the secret is shown once. */
export function FormTokenCreate() {
  const me = useMe();
  const qc = useQueryClient();
  const [secret, setSecret] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: createToken,
    onSuccess: (t) => {
      setSecret(t.token);
      return qc.invalidateQueries({ queryKey: ['account', 'tokens'] });
    },
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    setSecret(null);
    create.mutate(
      { name: String(f.get('name') ?? ''), role: String(f.get('role')) as Role },
      { onSuccess: () => form.reset() },
    );
  };
  return (
    <form className="stack" onSubmit={submit} aria-label="Create an API token">
      <div className="toolbar">
        <label className="field">
          Token name
          <input name="name" required maxLength={100} placeholder="deploy script" />
        </label>
        <label className="field">
          Role
          <select name="role" defaultValue="viewer">
            {ROLE_NAMES.filter((r) => hasRole(me.role, r)).map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create token'}
        </button>
      </div>
      {create.isError && (
        <div className="alert" data-tone="bad" role="alert" style={{ margin: 0 }}>
          {describeApiError(create.error).detail}
        </div>
      )}
      {secret && (
        <div className="alert" data-tone="ok" role="status" style={{ margin: 0 }}>
          Copy the token now; it is not shown again:{' '}
          <code className="mono" data-testid="new-token">
            {secret}
          </code>{' '}
          <ButtonCopy text={secret} label="Copy token" />
        </div>
      )}
    </form>
  );
}
