'use client';

import { type FormEvent, useState } from 'react';

export type ProviderOption = { name: string; label: string };

/**
 * A new source: slug (its URL), provider and the signing secret the provider shows when the webhook
 * is created there. The secret field is write-only: it is cleared after submit and never shown again.
 */
export function FormSourceCreate({
  providers,
  busy,
  locked,
  onCreate,
}: {
  providers: ProviderOption[];
  busy: boolean;
  /** Why this person may not add a source (their role), if so. */
  locked?: string;
  onCreate: (input: { slug: string; provider: string; secrets: string[] }) => Promise<unknown>;
}) {
  const [slug, setSlug] = useState('');
  const [provider, setProvider] = useState(providers[0]?.name ?? '');
  const [secret, setSecret] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    // On failure the fields stay for correcting; the panel shows the error.
    onCreate({ slug: slug.trim(), provider, secrets: [secret.trim()] }).then(
      () => {
        setSlug('');
        setSecret('');
      },
      () => {},
    );
  };
  return (
    <form
      onSubmit={submit}
      className="row"
      style={{ alignItems: 'end', flexWrap: 'wrap' }}
      aria-label="New source"
    >
      <label className="field">
        Slug
        <input
          value={slug}
          onChange={(e) => setSlug(e.target.value)}
          placeholder="payments"
          pattern="[a-z0-9]([a-z0-9\-]{0,46}[a-z0-9])?"
          title="lower-case letters, digits and inner dashes"
          maxLength={48}
          required
        />
      </label>
      <label className="field">
        Provider
        <select value={provider} onChange={(e) => setProvider(e.target.value)}>
          {providers.map((p) => (
            <option key={p.name} value={p.name}>
              {p.label}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        Signing secret
        <input
          type="password"
          autoComplete="off"
          value={secret}
          onChange={(e) => setSecret(e.target.value)}
          minLength={16}
          maxLength={512}
          required
        />
      </label>
      <button type="submit" disabled={busy || !!locked} title={locked}>
        {busy ? 'Adding…' : 'Add source'}
      </button>
    </form>
  );
}
