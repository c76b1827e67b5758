import type { Metadata } from 'next';
import type { SearchParams } from 'nuqs/server';
import { requirePageSession } from '@/lib/auth/page';
import { env } from '@/lib/env';
import { DlqClient } from './client';
import { dlqUrl, loadDlqParams } from './search-params';

export const metadata: Metadata = { title: 'Dead letters · Webhook ops' };

// The client reads its filters from the URL itself (nuqs); the server parses them only to send a
// logged-out visitor back to the same view after login.
export default async function DlqPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await requirePageSession(dlqUrl('/dlq', await loadDlqParams(searchParams)));
  return <DlqClient retentionDays={env.RETENTION_DAYS} />;
}
