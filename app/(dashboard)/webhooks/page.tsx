import type { Metadata } from 'next';
import type { RawSearchParams } from '@/lib/api/page-params';
import { requirePageSession } from '@/lib/auth/page';
import { PROVIDER_NAMES, providerOf } from '@/lib/providers/registry';
import { WebhooksClient } from './client';
import { parseWebhooksParams, webhooksSearch } from './search-params';

export const metadata: Metadata = { title: 'Webhooks · Webhook ops' };

export default async function WebhooksPage({ searchParams }: { searchParams: Promise<RawSearchParams> }) {
  const params = parseWebhooksParams(await searchParams);
  await requirePageSession(`/webhooks${webhooksSearch(params)}`);
  const providers = PROVIDER_NAMES.map((name) => ({
    name,
    label: providerOf(name).label,
    managed: !!providerOf(name).management,
  }));
  return <WebhooksClient params={params} providers={providers} />;
}
