import type { Metadata } from 'next';
import type { SearchParams } from 'nuqs/server';
import { requirePageSession } from '@/lib/auth/page';
import { WebhooksClient } from './client';
import { loadWebhooksParams, webhooksUrl } from './search-params';

export const metadata: Metadata = { title: 'Webhooks · SkyLight webhooks' };

// The client reads its filters from the URL itself (nuqs); the server parses them only to send a
// logged-out visitor back to the same view after login.
export default async function WebhooksPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await requirePageSession(webhooksUrl('/webhooks', await loadWebhooksParams(searchParams)));
  return <WebhooksClient />;
}
