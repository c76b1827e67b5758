import type { Metadata } from 'next';
import type { RawSearchParams } from '@/lib/api/page-params';
import { requirePageSession } from '@/lib/auth/page';
import { OverviewClient } from './client';
import { overviewSearch, parseOverviewParams } from './search-params';

export const metadata: Metadata = { title: 'Overview · Webhook ops' };

export default async function OverviewPage({ searchParams }: { searchParams: Promise<RawSearchParams> }) {
  const params = parseOverviewParams(await searchParams);
  await requirePageSession(`/${overviewSearch(params)}`);
  return <OverviewClient params={params} />;
}
