import type { Metadata } from 'next';
import { requirePageSession } from '@/lib/auth/page';
import { AccountClient } from './client';

export const metadata: Metadata = { title: 'Your account · Webhook ops' };

export default async function AccountPage() {
  await requirePageSession('/account');
  return <AccountClient />;
}
