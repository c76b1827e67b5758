import type { Metadata } from 'next';
import type { RawSearchParams } from '@/lib/api/page-params';
import { requirePageSession } from '@/lib/auth/page';
import { AuditClient } from './client';
import { auditSearch, parseAuditParams } from './search-params';

export const metadata: Metadata = { title: 'Audit log · Webhook ops' };

export default async function AuditPage({ searchParams }: { searchParams: Promise<RawSearchParams> }) {
  const params = parseAuditParams(await searchParams);
  await requirePageSession(`/audit${auditSearch(params)}`);
  return <AuditClient params={params} />;
}
