import type { Metadata } from 'next';
import type { SearchParams } from 'nuqs/server';
import { requirePageSession } from '@/lib/auth/page';
import { AuditClient } from './client';
import { auditUrl, loadAuditParams } from './search-params';

export const metadata: Metadata = { title: 'Audit log · Webhook ops' };

// The client reads its filters from the URL itself (nuqs); the server parses them only to send a
// logged-out visitor back to the same view after login.
export default async function AuditPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await requirePageSession(auditUrl('/audit', await loadAuditParams(searchParams)));
  return <AuditClient />;
}
