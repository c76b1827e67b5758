import { getDb } from '@/db/client';
import { authed, ok, parseQuery } from '@/lib/api/route';
import { metricsQuery } from '@/lib/api/schemas';
import { retryRate } from '@/lib/metrics/dashboard';

export const dynamic = 'force-dynamic';

export const GET = authed('viewer', async (request) =>
  ok(await retryRate(await getDb(), parseQuery(metricsQuery, request))),
);
