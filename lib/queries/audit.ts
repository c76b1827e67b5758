import { infiniteQueryOptions } from '@tanstack/react-query';
import { fetchJson, qs } from './fetch-json';
import type { AuditRow } from './types';

export const auditOptions = () =>
  infiniteQueryOptions({
    queryKey: ['audit', 'list'] as const,
    queryFn: ({ pageParam, signal }) =>
      fetchJson<AuditRow[]>(`/api/audit${qs({ limit: 50, cursor: pageParam })}`, { signal }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
