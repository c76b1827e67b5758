import type { Metadata } from 'next';
import { requirePageSession } from '@/lib/auth/page';
import { UsersClient } from './client';

export const metadata: Metadata = { title: 'Users · Webhook ops' };

export default async function UsersPage() {
  await requirePageSession('/users');
  return <UsersClient />;
}
