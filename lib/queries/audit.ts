import { infiniteQueryOptions } from '@tanstack/react-query';
import { fetchJson, qs } from './fetch-json';
import type { AuditRow } from './types';

export type AuditFilters = { actor?: string; action?: string; from?: string; to?: string };

export const auditListOptions = (f: AuditFilters) =>
  infiniteQueryOptions({
    queryKey: ['audit', 'list', f] as const,
    queryFn: ({ pageParam, signal }) =>
      fetchJson<AuditRow[]>(`/api/audit${qs({ ...f, limit: 50, cursor: pageParam })}`, { signal }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });

/** The streamed export of the same filter (GET /api/audit/export). */
export const auditExportUrl = (f: AuditFilters, format: 'csv' | 'ndjson') =>
  `/api/audit/export${qs({ ...f, format })}`;
