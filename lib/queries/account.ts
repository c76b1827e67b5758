import { queryOptions } from '@tanstack/react-query';
import type { Role } from '@/lib/auth/roles';
import { fetchJson } from './fetch-json';
import type { SessionRow, TokenRow } from './types';

export const sessionsQuery = () =>
  queryOptions({
    queryKey: ['account', 'sessions'] as const,
    queryFn: async ({ signal }) => (await fetchJson<SessionRow[]>('/api/me/sessions', { signal })).data,
  });

export const tokensQuery = () =>
  queryOptions({
    queryKey: ['account', 'tokens'] as const,
    queryFn: async ({ signal }) => (await fetchJson<TokenRow[]>('/api/me/tokens', { signal })).data,
  });

export const revokeSession = async (id: number) => {
  await fetchJson(`/api/me/sessions/${id}`, { method: 'DELETE' });
};

export const createToken = async (body: { name: string; role: Role }) =>
  (await fetchJson<TokenRow & { token: string }>('/api/me/tokens', { method: 'POST', body })).data;

export const revokeToken = async (id: number) => {
  await fetchJson(`/api/me/tokens/${id}`, { method: 'DELETE' });
};

export const changePassword = async (body: { current_password: string; new_password: string }) => {
  await fetchJson('/api/me/password', { method: 'POST', body });
};
