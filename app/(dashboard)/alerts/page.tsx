import type { Metadata } from 'next';
import { requirePageSession } from '@/lib/auth/page';
import { AlertsClient } from './client';

export const metadata: Metadata = { title: 'Alerts · Webhook ops' };

export default async function AlertsPage() {
  await requirePageSession('/alerts');
  return <AlertsClient />;
}
