import type { Metadata } from 'next';
import type { SearchParams } from 'nuqs/server';
import { requirePageSession } from '@/lib/auth/page';
import { DeliveriesClient } from './client';
import { deliveriesUrl, loadDeliveriesParams } from './search-params';

export const metadata: Metadata = { title: 'Deliveries · Webhook ops' };

// The client reads its filters from the URL itself (nuqs); the server parses them only to send a
// logged-out visitor back to the same view after login.
export default async function DeliveriesPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await requirePageSession(deliveriesUrl('/deliveries', await loadDeliveriesParams(searchParams)));
  return <DeliveriesClient />;
}
