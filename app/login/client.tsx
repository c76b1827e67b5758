'use client';

import { type FormEvent, useState } from 'react';
import { describeApiError } from '@/components/state-error';
import { fetchJson } from '@/lib/queries/fetch-json';

export function LoginClient({ next }: { next: string }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // Uncontrolled input: typing before hydration finishes must neither be lost nor mismatch.
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const password = String(form.get('password') ?? '');
    const email = String(form.get('email') ?? '').trim();
    setBusy(true);
    setError(null);
    try {
      await fetchJson('/api/auth/login', {
        method: 'POST',
        body: email ? { email, password } : { password },
      });
      window.location.assign(next);
    } catch (err) {
      setError(describeApiError(err).detail);
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form
        className="panel"
        method="post"
        action="/api/auth/login"
        onSubmit={submit}
        aria-labelledby="login-title"
      >
        <h1 id="login-title">Webhook operations</h1>
        <p className="muted" style={{ margin: 0 }}>
          Log in with your email and password. On a new installation, log in as admin@localhost with
          DASHBOARD_PASSWORD, or the password printed at first start and saved in .data/dashboard-password.
        </p>
        <label className="field">
          Email
          <input
            type="email"
            name="email"
            autoComplete="username"
            placeholder="admin@localhost"
            // biome-ignore lint/a11y/noAutofocus: the first field on a login page
            autoFocus
          />
        </label>
        <label className="field">
          Password
          <input type="password" name="password" autoComplete="current-password" required />
        </label>
        {error && (
          <div className="alert" data-tone="bad" role="alert" style={{ margin: 0 }}>
            {error}
          </div>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
