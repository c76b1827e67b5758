import { createHmac, timingSafeEqual } from 'node:crypto';
import { TIMESTAMP_TOLERANCE_S } from './protocol';

export const SIGNATURE_FAILURES = {
  signature_missing: 'Missing X-Sly-Signature header',
  signature_malformed: 'X-Sly-Signature must be "t=<unix seconds>,v1=<64 lower-case hex>" (v1 may repeat)',
  timestamp_missing: 'X-Sly-Signature has no t= timestamp',
  timestamp_stale: 'X-Sly-Signature t= is more than 5 minutes old',
  timestamp_future: 'X-Sly-Signature t= is more than 5 minutes in the future',
  signature_mismatch: 'Signature does not match the request body',
} as const;
export type SlySignatureFailure = keyof typeof SIGNATURE_FAILURES;

export type SlySignatureCheck =
  | { ok: true; secretIndex: number }
  | { ok: false; reason: SlySignatureFailure };

const HEX64 = /^[0-9a-f]{64}$/;
const UNIX = /^\d{1,12}$/;
/** Bounds the work an unsigned header can ask for. */
const MAX_HEADER_CHARS = 1024;
const MAX_V1 = 8;

function digest(t: string, body: Uint8Array, secret: string): Buffer {
  return createHmac('sha256', secret).update(`${t}.`).update(body).digest();
}

/** `X-Sly-Signature` for `body` signed at `t` (Unix seconds) with each secret: one v1 per secret. */
export function sign(body: Uint8Array | string, secrets: string | readonly string[], t: number): string {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  return [`t=${t}`, ...list.map((s) => `v1=${digest(String(t), bytes, s).toString('hex')}`)].join(',');
}

/**
 * Verifies `X-Sly-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`: HMAC-SHA256 over "{t}.{raw body}". Any
 * v1 may match any secret (Sly signs with old and new secrets during a rotation overlap). The
 * signature is checked before the clock, so a forged request never learns whether its t was fresh;
 * a genuine one outside ±5 minutes is a replay or a broken clock, refused with its own reason.
 */
export function verifySignature(
  body: Uint8Array,
  header: string | null | undefined,
  secrets: readonly string[],
  now: Date,
): SlySignatureCheck {
  if (header === null || header === undefined || header.trim() === '') {
    return { ok: false, reason: 'signature_missing' };
  }
  if (header.length > MAX_HEADER_CHARS) return { ok: false, reason: 'signature_malformed' };
  let t: string | null = null;
  const given: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return { ok: false, reason: 'signature_malformed' };
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (t !== null || !UNIX.test(value)) return { ok: false, reason: 'signature_malformed' };
      t = value;
    } else if (key === 'v1') {
      if (!HEX64.test(value) || given.length >= MAX_V1) return { ok: false, reason: 'signature_malformed' };
      given.push(Buffer.from(value, 'hex'));
    }
    // Other schemes (v0, a future v2) are not ours to check: skipped, as Sly's own SDK does.
  }
  if (given.length === 0) return { ok: false, reason: 'signature_malformed' };
  if (t === null) return { ok: false, reason: 'timestamp_missing' };
  let match = -1;
  // Every secret against every v1, not stopping early, so timing does not reveal which one matched.
  secrets.forEach((secret, i) => {
    const expected = digest(t, body, secret);
    for (const g of given) if (timingSafeEqual(expected, g) && match < 0) match = i;
  });
  if (match < 0) return { ok: false, reason: 'signature_mismatch' };
  const skew = Number(t) - Math.floor(now.getTime() / 1000);
  if (skew < -TIMESTAMP_TOLERANCE_S) return { ok: false, reason: 'timestamp_stale' };
  if (skew > TIMESTAMP_TOLERANCE_S) return { ok: false, reason: 'timestamp_future' };
  return { ok: true, secretIndex: match };
}
