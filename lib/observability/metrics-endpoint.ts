import { safeEqual } from '@/lib/auth/password';
import { errorBody } from '@/lib/errors';
import { metrics } from './metrics';

/**
 * GET /metrics in Prometheus text. Public unless a token is configured (METRICS_TOKEN): then only
 * `Authorization: Bearer <token>` is answered, compared in constant time, because the counters tell
 * traffic per event type, queue depth and DLQ size.
 */
export async function serveMetrics(request: Request, token: string | undefined): Promise<Response> {
  if (token !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '');
    if (!m || !safeEqual(m[1]!, token)) {
      return Response.json(errorBody('unauthorized', 'Metrics need Authorization: Bearer $METRICS_TOKEN'), {
        status: 401,
        headers: { 'WWW-Authenticate': 'Bearer realm="metrics"', 'Cache-Control': 'no-store' },
      });
    }
  }
  return new Response(await metrics.registry.metrics(), {
    headers: { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' },
  });
}
