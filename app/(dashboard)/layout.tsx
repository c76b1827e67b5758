import { cookies } from 'next/headers';
import type { ReactNode } from 'react';
import { NavMain } from '@/components/nav-main';
import { ProviderMe } from '@/components/provider-me';
import { Providers } from '@/components/providers';
import { SESSION_COOKIE, sessionUser } from '@/lib/auth/session';

export default async function DashboardLayout({ children }: { children: ReactNode }) {
  const user = await sessionUser((await cookies()).get(SESSION_COOKIE)?.value);
  // Without a session every page redirects to /login itself (with the path to come back to).
  if (!user) return children;
  return (
    <Providers renderedAt={Date.now()}>
      <ProviderMe me={{ email: user.email, role: user.role }}>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <div className="shell">
          <NavMain />
          <main className="main" id="main" tabIndex={-1}>
            {children}
          </main>
        </div>
      </ProviderMe>
    </Providers>
  );
}
