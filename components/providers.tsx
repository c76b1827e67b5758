'use client';

import { QueryClientProvider } from '@tanstack/react-query';
import { NuqsAdapter } from 'nuqs/adapters/next/app';
import { type ReactNode, useState } from 'react';
import { makeQueryClient } from '@/lib/queries/query-client';
import { serverClock } from '@/lib/server-clock';

/** `renderedAt`: the server's clock when it rendered the page, read before this page's first fetch. */
export function Providers({ children, renderedAt }: { children: ReactNode; renderedAt: number }) {
  const [client] = useState(makeQueryClient);
  useState(() => {
    // The server rendered the page after the browser asked for it (the navigation's start) and before now.
    if (typeof window === 'undefined') return;
    const now = Date.now();
    serverClock.note(renderedAt, 1, now - performance.now(), now);
  });
  return (
    <NuqsAdapter>
      <QueryClientProvider client={client}>{children}</QueryClientProvider>
    </NuqsAdapter>
  );
}
