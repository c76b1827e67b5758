import type { Metadata } from 'next';
import type { RawSearchParams } from '@/lib/api/page-params';
import { requirePageSession } from '@/lib/auth/page';
import { DlqClient } from './client';
import { dlqSearch, parseDlqParams } from './search-params';

export const metadata: Metadata = { title: 'Dead letters · Webhook ops' };

export default async function DlqPage({ searchParams }: { searchParams: Promise<RawSearchParams> }) {
  const params = parseDlqParams(await searchParams);
  await requirePageSession(`/dlq${dlqSearch(params)}`);
  return <DlqClient params={params} />;
}
