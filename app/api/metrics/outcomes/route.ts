import { authed, ok, parseQuery } from '@/lib/api/route';
import { metricsQuerySchema } from '@/lib/api/schemas';
import { getDb } from '@/lib/db';
import { outcomesOverTime } from '@/lib/metrics/dashboard';

export const dynamic = 'force-dynamic';

/** Receipt counts per outcome over time: `[{t, accepted, duplicate, rejected, …}]`. */
export const GET = authed('viewer', async (request) => {
  const series = await outcomesOverTime(await getDb(), parseQuery(metricsQuerySchema, request));
  const res = ok(series.points);
  res.headers.set('X-Bucket-Seconds', String(series.bucketS));
  return res;
});
