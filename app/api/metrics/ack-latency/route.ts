import { authed, ok, parseQuery } from '@/lib/api/route';
import { metricsQuerySchema } from '@/lib/api/schemas';
import { getDb } from '@/lib/db';
import { latencyOverTime } from '@/lib/metrics/dashboard';

export const dynamic = 'force-dynamic';

export const GET = authed('viewer', async (request) => {
  const series = await latencyOverTime(await getDb(), 'ack', parseQuery(metricsQuerySchema, request));
  const res = ok(series.points);
  res.headers.set('X-Bucket-Seconds', String(series.bucketS));
  return res;
});
