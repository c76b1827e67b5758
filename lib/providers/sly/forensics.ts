import { createHmac } from 'node:crypto';
import { decodeDigest } from '../common';
import type { PresentedSignature, SignatureScheme } from '../types';
import { HEADER_SIGNATURE, TIMESTAMP_TOLERANCE_S } from './protocol';

const MAX_V1 = 8;

/** Reads `t=<unix>,v1=<hex>[,v1=…]` leniently: upper-case or base64 digests, a bare digest. */
function decode(presented: string): PresentedSignature {
  const problems: string[] = [];
  const digests: Buffer[] = [];
  let signedAt: number | null = null;
  for (const part of presented.split(',').slice(0, MAX_V1 + 2)) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? '' : part.slice(0, eq).trim();
    const value = (eq < 0 ? part : part.slice(eq + 1)).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) signedAt = Number(value);
    else if (key === 'v1' || key === '') {
      const decoded = decodeDigest(value, 32) ?? decodeDigest(part.trim(), 32);
      if (!decoded) continue;
      digests.push(decoded.digest);
      if (decoded.problem) problems.push(decoded.problem);
      if (key === '') problems.push('a digest without v1=');
    }
  }
  if (signedAt === null) problems.push('no t= timestamp');
  return {
    digests,
    algorithm: 'sha256',
    problem: problems.length > 0 ? [...new Set(problems)].join(', ') : null,
    signedAt,
  };
}

export const slyScheme: SignatureScheme = {
  presented: (header) => header(HEADER_SIGNATURE),
  decode,
  digest: (body, secret, sig) =>
    createHmac('sha256', secret)
      .update(`${sig.signedAt ?? ''}.`)
      .update(body)
      .digest(),
  toleranceS: TIMESTAMP_TOLERANCE_S,
};
