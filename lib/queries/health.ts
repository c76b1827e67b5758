import { queryOptions } from '@tanstack/react-query';
import { REFRESH_MS } from './query-client';
import type { Health } from './types';

/** /api/health answers 503 with a body when the database is down: that body is the data here. */
export const healthOptions = () =>
  queryOptions({
    queryKey: ['health'] as const,
    queryFn: async ({ signal }): Promise<Health> => {
      const res = await fetch('/api/health', { signal, cache: 'no-store' });
      if (res.status !== 200 && res.status !== 503) throw new Error(`Health check failed (${res.status})`);
      return (await res.json()) as Health;
    },
    refetchInterval: REFRESH_MS,
    refetchIntervalInBackground: false,
  });
