import { authed, ok, parseQuery } from '@/lib/api/route';
import { metricsQuerySchema } from '@/lib/api/schemas';
import { getDb } from '@/lib/db';
import { summary } from '@/lib/metrics/dashboard';

export const dynamic = 'force-dynamic';

export const GET = authed('viewer', async (request) =>
  ok(await summary(await getDb(), parseQuery(metricsQuerySchema, request))),
);
