import type { Metadata } from 'next';
import type { SearchParams } from 'nuqs/server';
import { requirePageSession } from '@/lib/auth/page';
import { PROVIDER_NAMES, providerOf } from '@/lib/providers/registry';
import { WebhooksClient } from './client';
import { loadWebhooksParams, webhooksUrl } from './search-params';

export const metadata: Metadata = { title: 'Webhooks · Webhook ops' };

// The client reads its filters from the URL itself (nuqs); the server parses them only to send a
// logged-out visitor back to the same view after login.
export default async function WebhooksPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await requirePageSession(webhooksUrl('/webhooks', await loadWebhooksParams(searchParams)));
  const providers = PROVIDER_NAMES.map((name) => ({
    name,
    label: providerOf(name).label,
    managed: !!providerOf(name).management,
  }));
  return <WebhooksClient providers={providers} />;
}
