import type { Metadata } from 'next';
import { requirePageSession } from '@/lib/auth/page';
import { AuditClient } from './client';

export const metadata: Metadata = { title: 'Audit log · Webhook ops' };

export default async function AuditPage() {
  await requirePageSession('/audit');
  return <AuditClient />;
}
