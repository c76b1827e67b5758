import { clientAddress, type TrustProxy } from '@/lib/api/client-ip';
import type { ReceiverRequest } from './types';

/** Adapts a Fetch API Request (Next route handler) to the receiver's input; `trust` is TRUST_PROXY. */
export function fromWebRequest(
  request: Request,
  startedAt: number,
  trust: TrustProxy = false,
): ReceiverRequest {
  const address = clientAddress(request.headers, trust);
  const len = request.headers.get('content-length');
  return {
    header: (name) => request.headers.get(name),
    headerEntries: () => request.headers.entries(),
    contentLength: len !== null && /^\d+$/.test(len) ? Number(len) : null,
    startedAt,
    // A route handler is not told the peer's address, and forwarded headers are anyone's unless
    // TRUST_PROXY says a proxy wrote them: otherwise refusals from here share one sampling bucket.
    // `npm start` serves the receiver from node:http, which knows the socket.
    clientAddress: address === 'unknown' ? null : address,
    readBody: async (limit) => {
      if (!request.body) return new Uint8Array(0);
      // A client gone before its body ended settles the read (its reserved bytes come back), even
      // when the stream itself is never told.
      const { signal } = request;
      if (signal.aborted) throw new Error('connection closed before the body was read');
      let onAbort = () => {};
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(new Error('connection closed before the body ended'));
        signal.addEventListener('abort', onAbort, { once: true });
      });
      aborted.catch(() => {});
      const reader = request.body.getReader();
      const chunks: Uint8Array[] = [];
      let size = 0;
      try {
        for (;;) {
          const { done, value } = await Promise.race([reader.read(), aborted]);
          if (done) break;
          size += value.byteLength;
          if (size > limit) {
            // Stop reading at once: a huge or endless body must not be buffered.
            await reader.cancel().catch(() => {});
            return 'too_large';
          }
          chunks.push(value);
        }
      } catch (err) {
        await reader.cancel().catch(() => {});
        throw err;
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
      return concat(chunks, size);
    },
  };
}

export function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
