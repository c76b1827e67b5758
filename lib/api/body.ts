import { AppError } from '@/lib/errors';

/** Largest JSON body any dashboard API route accepts (the receiver has its own limit). */
export const MAX_API_BODY_BYTES = 64 * 1024;

const tooLarge = (max: number) =>
  new AppError('payload_too_large', `Request body too large: at most ${max} bytes`);

/**
 * Reads a request's (or a fetched response's) body as UTF-8 text without ever holding more than `max`
 * bytes: a declared Content-Length over the limit is refused before a byte is read, and a chunked (or
 * lying) body is cancelled as soon as the running total passes the limit. `.text()` would buffer it
 * all first.
 */
export async function readBodyText(request: Request | Response, max = MAX_API_BODY_BYTES): Promise<string> {
  const declared = request.headers.get('content-length');
  if (declared !== null && (!/^\d{1,15}$/.test(declared) || Number(declared) > max)) {
    // Not read: let go of it (a fetched answer would otherwise hold its connection).
    await request.body?.cancel().catch(() => {});
    if (!/^\d{1,15}$/.test(declared)) throw new AppError('bad_request', 'Invalid Content-Length');
    throw tooLarge(max);
  }
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge(max);
    }
    chunks.push(value);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks, size));
  } catch {
    throw new AppError('bad_request', 'Invalid body: not UTF-8');
  }
}
