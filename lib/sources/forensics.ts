import { timingSafeEqual } from 'node:crypto';
import type { SignatureDiagnosis } from '@/db/schema';
import type { PresentedSignature, SignatureScheme } from '@/lib/providers/types';
import type { Keyring, SecretKey } from './directory';

export type ForensicInput = {
  scheme: SignatureScheme;
  presented: string | null;
  body: Uint8Array;
  now: Date;
  /** The refusing source's keyring. */
  own: Keyring;
  /** Every other source's keyring (a secret configured on the wrong URL). */
  others: ReadonlyArray<readonly [string, Keyring]>;
};

/**
 * Work units per diagnosis: one HMAC over up to 64 KiB is one unit, larger bodies cost more. Bounds
 * what any refused request can make us compute, however many secrets and sources exist.
 */
export const HMAC_BUDGET = 48;
const UNIT_BYTES = 65_536;
/** Re-serialised bodies are tried only below this size (parsing is the cost). */
const RESERIALISE_MAX_BYTES = 262_144;
/** The stored signature header is cut to this length. */
const PRESENTED_KEEP = 300;
const WHSEC = 'whsec_';

class Budget {
  used = 0;
  constructor(private readonly units: number) {}
  spend(bytes: number): boolean {
    const cost = 1 + Math.floor(bytes / UNIT_BYTES);
    if (this.used + cost > this.units) return false;
    this.used += cost;
    return true;
  }
}

const meta = (k: SecretKey, expiredAt?: Date | null): NonNullable<SignatureDiagnosis['secret']> => ({
  id: k.id,
  label: k.label,
  last4: k.last4,
  ...(expiredAt === undefined ? {} : { expired_at: expiredAt?.toISOString() ?? null }),
});

/**
 * The most likely reason a signature was refused, tested in the order of SIGNATURE_CAUSES: absent,
 * then the secrets an operator can act on (current one in a wrong form or at a wrong time, a retired
 * one, the `whsec_` prefix, another source's), then the body changed in transit. Bounded by
 * HMAC_BUDGET; pure apart from the HMACs.
 */
export function diagnose(input: ForensicInput): SignatureDiagnosis {
  const presented = input.presented === null ? null : input.presented.slice(0, PRESENTED_KEEP);
  const budget = new Budget(HMAC_BUDGET);
  const done = (d: Omit<SignatureDiagnosis, 'presented' | 'hmacs'>): SignatureDiagnosis => ({
    ...d,
    presented,
    hmacs: budget.used,
  });
  if (input.presented === null || input.presented.trim() === '') {
    return done({ cause: 'no_signature_header', detail: 'The request carried no signature header.' });
  }
  const sig = input.scheme.decode(input.presented);
  if (sig.digests.length === 0) {
    return done({
      cause: 'wrong_encoding',
      detail: `The signature is not in a form we can read${sig.problem ? ` (${sig.problem})` : ''}.`,
    });
  }
  const matches = (secret: string, body: Uint8Array = input.body): boolean | null => {
    if (!budget.spend(body.byteLength)) return null;
    return matchesAny(input.scheme.digest(body, secret, sig), sig);
  };

  for (const k of input.own.active) {
    const m = matches(k.value);
    if (m === null) break;
    if (!m) continue;
    const skew = skewSeconds(input, sig);
    if (skew !== null) {
      return done({
        cause: 'timestamp_outside_tolerance',
        detail: `Signed with a current secret, but ${Math.abs(skew)} s ${skew < 0 ? 'ago' : 'in the future'}: outside the ±${input.scheme.toleranceS} s tolerance (a replay or a wrong clock).`,
        secret: meta(k),
        skew_s: skew,
      });
    }
    if (sig.problem) {
      return done({
        cause: 'wrong_encoding',
        detail: `Signed with a current secret, but sent in the wrong form: ${sig.problem}.`,
        secret: meta(k),
      });
    }
    return done({
      cause: 'current_secret',
      detail: 'It matches a secret that is active now (added after this delivery was refused).',
      secret: meta(k),
    });
  }
  for (const k of input.own.inactive) {
    const m = matches(k.value);
    if (m === null) break;
    if (m) {
      return done({
        cause: 'retired_secret',
        detail: `It matches a retired secret of this source (${k.label ?? 'unlabelled'}, …${k.last4}): the sender still signs with the old secret.`,
        secret: meta(k, k.expiredAt),
      });
    }
  }
  for (const k of input.own.active) {
    const variant = k.value.startsWith(WHSEC) ? k.value.slice(WHSEC.length) : `${WHSEC}${k.value}`;
    const m = matches(variant);
    if (m === null) break;
    if (m) {
      return done({
        cause: 'whsec_prefix',
        detail: k.value.startsWith(WHSEC)
          ? `It matches the secret …${k.last4} without its whsec_ prefix: store it exactly as the provider shows it.`
          : `It matches the secret …${k.last4} with a whsec_ prefix added: the stored secret is missing its whsec_ prefix.`,
        secret: meta(k),
      });
    }
  }
  outer: for (const [slug, ring] of input.others) {
    for (const k of [...ring.active, ...ring.inactive]) {
      const m = matches(k.value);
      if (m === null) break outer;
      if (m) {
        return done({
          cause: 'other_source_secret',
          detail: `It matches a secret of the source "${slug}": the provider is configured with the wrong URL (or that source's secret).`,
          other_source: slug,
        });
      }
    }
  }
  if (input.body.byteLength <= RESERIALISE_MAX_BYTES) {
    outer2: for (const [variant, body] of reserialisations(input.body)) {
      for (const k of input.own.active) {
        const m = matches(k.value, body);
        if (m === null) break outer2;
        if (m) {
          return done({
            cause: 'body_reserialised',
            detail: `It matches the body with ${variant}: something between the provider and us re-encoded the JSON. The signature covers the exact bytes sent.`,
            secret: meta(k),
            variant,
          });
        }
      }
    }
  }
  if (sig.problem) {
    return done({
      cause: 'wrong_encoding',
      detail: `The signature is in the wrong form (${sig.problem}) and matches no known secret.`,
    });
  }
  return done({
    cause: 'no_known_secret',
    detail:
      'No known secret matches: the sender uses a wrong or unknown secret (copy the current one from the provider).',
  });
}

function matchesAny(expected: Buffer, sig: PresentedSignature): boolean {
  let hit = false;
  for (const d of sig.digests) if (d.length === expected.length && timingSafeEqual(d, expected)) hit = true;
  return hit;
}

/** Seconds between the signed time and ours when outside the scheme's tolerance, else null. */
function skewSeconds(input: ForensicInput, sig: PresentedSignature): number | null {
  if (input.scheme.toleranceS === undefined || sig.signedAt === null) return null;
  const skew = sig.signedAt - Math.floor(input.now.getTime() / 1000);
  return Math.abs(skew) > input.scheme.toleranceS ? skew : null;
}

/** The received body as a sender or a proxy might have had it before re-encoding it. */
function reserialisations(raw: Uint8Array): Array<[string, Uint8Array]> {
  const text = new TextDecoder().decode(raw);
  const out = new Map<string, string>();
  if (text.endsWith('\n')) out.set('the trailing newline removed', text.replace(/\r?\n$/, ''));
  else out.set('a trailing newline added', `${text}\n`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed !== undefined) {
    const compact = JSON.stringify(parsed);
    out.set('whitespace removed and unicode escapes decoded', compact);
    out.set('non-ASCII characters escaped as \\u sequences', escapeUnicode(compact));
    out.set('keys in sorted order', JSON.stringify(sortKeys(parsed)));
    out.set('pretty-printed JSON (2 spaces)', JSON.stringify(parsed, null, 2));
  }
  const seen = new Set([text]);
  const variants: Array<[string, Uint8Array]> = [];
  for (const [name, v] of out) {
    if (seen.has(v)) continue;
    seen.add(v);
    variants.push([name, new TextEncoder().encode(v)]);
  }
  return variants;
}

function escapeUnicode(json: string): string {
  return json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}
