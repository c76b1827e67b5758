'use client';

import { useMutation } from '@tanstack/react-query';
import { fetchJson } from '@/lib/queries/fetch-json';

export function ButtonLogout() {
  const logout = useMutation({
    mutationFn: () => fetchJson('/api/auth/logout', { method: 'POST' }),
    onSettled: () => window.location.assign('/login'),
  });
  return (
    <button type="button" onClick={() => logout.mutate()} disabled={logout.isPending}>
      {logout.isPending ? 'Logging out…' : 'Log out'}
    </button>
  );
}
