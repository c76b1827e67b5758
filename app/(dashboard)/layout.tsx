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
    <Providers>
      <ProviderMe me={{ email: user.email, role: user.role }}>
        <div className="shell">
          <NavMain />
          <main className="main">{children}</main>
        </div>
      </ProviderMe>
    </Providers>
  );
}
