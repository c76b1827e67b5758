import { queryOptions } from '@tanstack/react-query';
import { fetchJson } from './fetch-json';
import type { SourceRowJson } from './types';

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
