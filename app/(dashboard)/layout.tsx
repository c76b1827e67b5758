import type { ReactNode } from 'react';
import { NavMain } from '@/components/nav-main';
import { Providers } from '@/components/providers';

export default function DashboardLayout({ children }: { children: ReactNode }) {
  return (
    <Providers>
      <div className="shell">
        <NavMain />
        <main className="main">{children}</main>
      </div>
    </Providers>
  );
}
