import type { Metadata } from 'next';
import type { SearchParams } from 'nuqs/server';
import { requirePageSession } from '@/lib/auth/page';
import { OverviewClient } from './client';
import { loadOverviewParams, overviewUrl } from './search-params';

export const metadata: Metadata = { title: 'Overview · Webhook ops' };

// The client reads its filters from the URL itself (nuqs); the server parses them only to send a
// logged-out visitor back to the same view after login.
export default async function OverviewPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await requirePageSession(overviewUrl('/', await loadOverviewParams(searchParams)));
  return <OverviewClient />;
}
