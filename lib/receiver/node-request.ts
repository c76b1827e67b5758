import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientAddress, type TrustProxy } from '@/lib/api/client-ip';
import { securityHeaders } from '@/lib/security-headers';
import type { ReceiverRequest, ReceiverResponse } from './types';
import { concat } from './web-request';

const HEADERS = Object.fromEntries(securityHeaders(true).map((h) => [h.key.toLowerCase(), h.value]));

/**
 * Adapts a node:http request to the receiver's input (used by the bare HTTP entry and tests). `trust`
 * is TRUST_PROXY: behind a proxy the socket is the proxy's, and every client would share one body
 * budget and one refusal sample.
 */
export function fromIncoming(
  req: IncomingMessage,
  startedAt: number,
  trust: TrustProxy = false,
): ReceiverRequest {
  const len = req.headers['content-length'];
  return {
    header: (name) => {
      const v = req.headers[name.toLowerCase()];
      return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
    },
    headerEntries: function* () {
      for (const [k, v] of Object.entries(req.headers)) {
        if (v !== undefined) yield [k, Array.isArray(v) ? v.join(', ') : v];
      }
    },
    contentLength: typeof len === 'string' && /^\d+$/.test(len) ? Number(len) : null,
    startedAt,
    clientAddress: addressOf(req, trust),
    readBody: (limit) =>
      new Promise((resolve, reject) => {
        // Gone already (during the source lookup, say): no event would come to settle the read.
        if (req.destroyed) {
          reject(new Error('connection closed before the body was read'));
          return;
        }
        const chunks: Uint8Array[] = [];
        let size = 0;
        const onData = (c: Buffer) => {
          size += c.byteLength;
          if (size > limit) {
            cleanup();
            // Stop buffering; the answer goes out with Connection: close and the rest is discarded.
            req.pause();
            resolve('too_large');
            return;
          }
          chunks.push(c);
        };
        const onEnd = () => {
          cleanup();
          resolve(concat(chunks, size));
        };
        const onError = (err: Error) => {
          cleanup();
          reject(err);
        };
        // A client gone before its body ended (or cut off by the request timeout) settles the read
        // too: its reserved bytes (./body-budget.ts) must come back whatever node emits first.
        const onClose = () => onError(new Error('connection closed before the body ended'));
        const cleanup = () => {
          req.off('data', onData);
          req.off('end', onEnd);
          req.off('error', onError);
          req.off('close', onClose);
        };
        req.on('data', onData);
        req.on('end', onEnd);
        req.on('error', onError);
        req.on('close', onClose);
      }),
  };
}

export function sendNode(res: ServerResponse, r: ReceiverResponse, close = false) {
  const body = JSON.stringify(r.body);
  res.writeHead(r.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...HEADERS,
    ...(close ? { connection: 'close' } : {}),
    ...r.headers,
  });
  res.end(body);
}

/** The socket's address, or with TRUST_PROXY the client's as the trusted proxies forwarded it. */
function addressOf(req: IncomingMessage, trust: TrustProxy): string | null {
  const peer = req.socket.remoteAddress ?? null;
  if (peer === null || trust === false || trust === 0) return peer;
  const forwarded = new Headers();
  for (const name of ['x-forwarded-for', 'x-real-ip']) {
    const v = req.headers[name];
    if (typeof v === 'string') forwarded.set(name, v);
  }
  return clientAddress(forwarded, trust, peer.replace(/^::ffff:/, ''));
}
