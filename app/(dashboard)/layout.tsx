import type { ReactNode } from 'react';
import { NavMain } from '@/components/nav-main';
import { Providers } from '@/components/providers';

export default function DashboardLayout({ children }: { children: ReactNode }) {
  return (
    <Providers>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <div className="shell">
        <NavMain />
        <main className="main" id="main" tabIndex={-1}>
          {children}
        </main>
      </div>
    </Providers>
  );
}
