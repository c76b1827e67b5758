'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { ButtonLogout } from './button-logout';
import { useMe } from './provider-me';
import { StatusHealth } from './status-health';
import { SwitchTimeZone } from './switch-time-zone';

const LINKS = [
  { href: '/', label: 'Overview' },
  { href: '/alerts', label: 'Alerts' },
  { href: '/deliveries', label: 'Deliveries' },
  { href: '/dlq', label: 'Dead letters' },
  { href: '/webhooks', label: 'Webhooks' },
  { href: '/reconciliation', label: 'Reconciliation' },
  { href: '/audit', label: 'Audit log' },
  { href: '/users', label: 'Users', admin: true },
  { href: '/account', label: 'Your account' },
] as const;

export function NavMain() {
  const path = usePathname();
  const me = useMe();
  const current = (href: string) => (href === '/' ? path === '/' : path.startsWith(href));
  return (
    <nav className="nav" aria-label="Main">
      <div className="nav-brand">Webhook ops</div>
      {LINKS.filter((l) => !('admin' in l) || me.role === 'admin').map((l) => (
        <Link key={l.href} href={l.href} aria-current={current(l.href) ? 'page' : undefined}>
          {l.label}
        </Link>
      ))}
      <div className="nav-foot">
        <StatusHealth />
        <SwitchTimeZone />
        <div className="muted" data-testid="me">
          {me.email} · {me.role}
        </div>
        <ButtonLogout />
      </div>
    </nav>
  );
}
