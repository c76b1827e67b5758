import type { Metadata } from 'next';
import type { SearchParams } from 'nuqs/server';
import { requirePageSession } from '@/lib/auth/page';
import { ReconciliationClient } from './client';
import { loadReconciliationParams, reconciliationUrl } from './search-params';

export const metadata: Metadata = { title: 'Reconciliation · Webhook ops' };

export default async function ReconciliationPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await requirePageSession(
    reconciliationUrl('/reconciliation', await loadReconciliationParams(searchParams)),
  );
  return <ReconciliationClient />;
}
