import { QueryClient } from '@tanstack/react-query';
import { ApiError } from './fetch-json';

/** One factory for the browser's query client: no retries for answers that will not change. */
export function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 5_000,
        refetchOnWindowFocus: true,
        refetchIntervalInBackground: false,
        retry: (failures, err) =>
          failures < 2 && !(err instanceof ApiError && err.status >= 400 && err.status < 500),
      },
    },
  });
}

/** How often live views poll while the tab is visible (polling pauses while it is hidden). */
export const REFRESH_MS = 10_000;
