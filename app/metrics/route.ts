import { env } from '@/lib/env';
import { serveMetrics } from '@/lib/observability/metrics-endpoint';

export const dynamic = 'force-dynamic';

export function GET(request: Request) {
  return serveMetrics(request, env.METRICS_TOKEN);
}
