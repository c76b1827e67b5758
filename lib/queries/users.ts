import { queryOptions } from '@tanstack/react-query';
import type { Role } from '@/lib/auth/roles';
import { fetchJson } from './fetch-json';
import type { UserRow } from './types';

export const usersQuery = () =>
  queryOptions({
    queryKey: ['users', 'list'] as const,
    queryFn: async ({ signal }) => (await fetchJson<UserRow[]>('/api/users', { signal })).data,
  });

export type NewUser = { email: string; role: Role; password?: string };

export const createUser = async (body: NewUser) =>
  (await fetchJson<UserRow & { one_time_password?: string }>('/api/users', { method: 'POST', body })).data;

export const resetPassword = async (id: number) =>
  (
    await fetchJson<{ id: number; email: string; one_time_password: string }>(`/api/users/${id}/password`, {
      method: 'POST',
    })
  ).data;

export const updateUser = async (id: number, body: { role?: Role; disabled?: boolean }) =>
  (await fetchJson<UserRow>(`/api/users/${id}`, { method: 'PATCH', body })).data;
