import type { Metadata } from 'next';
import type { RawSearchParams } from '@/lib/api/page-params';
import { requirePageSession } from '@/lib/auth/page';
import { WebhooksClient } from './client';
import { parseWebhooksParams, webhooksSearch } from './search-params';

export const metadata: Metadata = { title: 'Webhooks · SkyLight webhooks' };

export default async function WebhooksPage({ searchParams }: { searchParams: Promise<RawSearchParams> }) {
  const params = parseWebhooksParams(await searchParams);
  await requirePageSession(`/webhooks${webhooksSearch(params)}`);
  return <WebhooksClient params={params} />;
}
