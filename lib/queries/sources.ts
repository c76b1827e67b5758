import { queryOptions } from '@tanstack/react-query';
import { fetchJson } from './fetch-json';
import type { SourceRowJson, SourceSecretsJson } from './types';

export const sourcesOptions = () =>
  queryOptions({
    queryKey: ['sources', 'list'] as const,
    queryFn: async ({ signal }) => (await fetchJson<SourceRowJson[]>('/api/sources', { signal })).data,
  });

export type SourceCreateInput = { slug: string; provider: string; secrets: string[]; enabled?: boolean };

export const createSourceRequest = async (input: SourceCreateInput) =>
  (await fetchJson<SourceRowJson>('/api/sources', { method: 'POST', body: input })).data;

export const patchSourceRequest = async (slug: string, patch: { enabled?: boolean; secrets?: string[] }) =>
  (
    await fetchJson<SourceRowJson>(`/api/sources/${encodeURIComponent(slug)}`, {
      method: 'PATCH',
      body: patch,
    })
  ).data;

const secretsPath = (slug: string) => `/api/sources/${encodeURIComponent(slug)}/secrets`;

/** Polled: the readiness meter (last use, share of recent deliveries) moves while deliveries flow. */
export const sourceSecretsOptions = (slug: string) =>
  queryOptions({
    queryKey: ['sources', 'secrets', slug] as const,
    queryFn: async ({ signal }) => (await fetchJson<SourceSecretsJson>(secretsPath(slug), { signal })).data,
    refetchInterval: 5_000,
  });

export const rotateSecretRequest = async (slug: string, body: { overlap_seconds: number }) =>
  (await fetchJson<SourceSecretsJson>(`${secretsPath(slug)}/rotate`, { method: 'POST', body })).data;

export const addSecretRequest = async (
  slug: string,
  body: { secret: string; label?: string; overlap_seconds: number },
) => (await fetchJson<SourceSecretsJson>(secretsPath(slug), { method: 'POST', body })).data;

export const retireSecretRequest = async (slug: string, id: number) =>
  (await fetchJson<SourceSecretsJson>(`${secretsPath(slug)}/${id}`, { method: 'DELETE' })).data;
