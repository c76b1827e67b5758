// Closed-loop load with autocannon (issue #19): a fixed number of connections, each sending its next
// signed delivery as soon as its last answer arrived. The open model (load.ts) asks "what latency at
// this rate"; this asks "how many acks per second can this many senders get", which is what a provider
// retrying a backlog over a fixed connection pool sees.
import autocannon from 'autocannon';
import type { Feed } from './payloads';

export type ClosedResult = {
  connections: number;
  durationS: number;
  /** Answers with the expected status (a 200 for a signed delivery). */
  ok: number;
  /** Any other status, socket error or timeout. */
  errors: number;
  acksPerSecond: number;
  p50: number | null;
  p99: number | null;
};

export async function autocannonClosed(
  url: string,
  connections: number,
  durationMs: number,
  feed: Feed,
): Promise<ClosedResult> {
  const target = new URL(url);
  const result = await autocannon({
    url: target.origin,
    connections,
    pipelining: 1,
    duration: durationMs / 1000,
    timeout: 5,
    requests: [
      {
        method: 'POST',
        path: target.pathname,
        // A fresh delivery (new delivery_id, new `data`) per request: a repeated body would measure
        // the duplicate path instead of the accept path.
        setupRequest: (req) => {
          const shot = feed.next();
          // autocannon writes Content-Length itself; a second one would make the request invalid.
          const { 'content-length': _, ...headers } = shot.headers;
          return { ...req, headers, body: shot.body };
        },
      },
    ],
  });
  const ok = result['2xx'];
  const errors = result.non2xx + result.errors + result.timeouts;
  return {
    connections,
    durationS: result.duration,
    ok,
    errors,
    acksPerSecond: Math.round(ok / result.duration),
    p50: result.latency.p50 ?? null,
    p99: result.latency.p99 ?? null,
  };
}
