'use client';

import { createContext, type ReactNode, useContext } from 'react';
import type { PageUser } from '@/lib/auth/page';

const MeContext = createContext<PageUser | null>(null);

/** The logged-in person, read once by the dashboard layout, so controls can follow the role. */
export function ProviderMe({ me, children }: { me: PageUser; children: ReactNode }) {
  return <MeContext.Provider value={me}>{children}</MeContext.Provider>;
}

export function useMe(): PageUser {
  const me = useContext(MeContext);
  if (!me) throw new Error('useMe outside ProviderMe');
  return me;
}
