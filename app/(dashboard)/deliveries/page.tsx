import type { Metadata } from 'next';
import type { RawSearchParams } from '@/lib/api/page-params';
import { requirePageSession } from '@/lib/auth/page';
import { DeliveriesClient } from './client';
import { deliveriesSearch, parseDeliveriesParams } from './search-params';

export const metadata: Metadata = { title: 'Deliveries · Webhook ops' };

export default async function DeliveriesPage({ searchParams }: { searchParams: Promise<RawSearchParams> }) {
  const params = parseDeliveriesParams(await searchParams);
  await requirePageSession(`/deliveries${deliveriesSearch(params)}`);
  return <DeliveriesClient params={params} />;
}
