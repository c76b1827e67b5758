import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck =
  | { ok: true; secretIndex: number }
  | { ok: false; reason: 'signature_missing' | 'signature_malformed' | 'signature_mismatch' };

const HEX64 = /^[0-9a-f]{64}$/;

export function sign(body: Uint8Array | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Verifies `X-Skylight-Signature: sha256=<hex>` over the raw body bytes against each secret (several
 * during a rotation). The header must be exactly one lower-case 64-hex digest: Node's hex digest is
 * lower case, and anything else is not something SkyLight sends. Comparison is constant-time over
 * fixed-length digests, so length never throws or leaks.
 */
export function verifySignature(
  body: Uint8Array,
  header: string | null | undefined,
  secrets: readonly string[],
): SignatureCheck {
  if (header === null || header === undefined || header.trim() === '') {
    return { ok: false, reason: 'signature_missing' };
  }
  const value = header.trim();
  if (!value.startsWith('sha256=')) return { ok: false, reason: 'signature_malformed' };
  const hex = value.slice('sha256='.length);
  if (!HEX64.test(hex)) return { ok: false, reason: 'signature_malformed' };
  const given = Buffer.from(hex, 'hex');
  let match = -1;
  // Check every secret, not stopping at the first match, so timing does not reveal which one matched.
  secrets.forEach((secret, i) => {
    const expected = createHmac('sha256', secret).update(body).digest();
    if (timingSafeEqual(expected, given) && match < 0) match = i;
  });
  return match >= 0 ? { ok: true, secretIndex: match } : { ok: false, reason: 'signature_mismatch' };
}
