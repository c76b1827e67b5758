import { createHmac } from 'node:crypto';
import { decodeDigest } from '../common';
import type { PresentedSignature, SignatureScheme } from '../types';
import { HEADER_SIGNATURE } from './protocol';

const BYTES = { sha256: 32, sha1: 20 } as const;

/** Reads `sha256=<hex>` and the forms senders get wrong: `sha1=`, no prefix, upper-case hex, base64. */
function decode(presented: string): PresentedSignature {
  const value = presented.trim();
  const problems: string[] = [];
  let algorithm: 'sha256' | 'sha1' = 'sha256';
  let rest = value;
  // A short word before "=": a scheme; a long one is a bare base64 digest ending in padding.
  const m = /^([A-Za-z0-9]{1,10})=(.+)$/.exec(value);
  if (m) {
    rest = m[2]!;
    const scheme = m[1]!.toLowerCase();
    if (scheme === 'sha1') {
      algorithm = 'sha1';
      problems.push('sha1= instead of sha256=');
    } else if (scheme !== 'sha256') problems.push(`${m[1]}= instead of sha256=`);
    else if (m[1] !== 'sha256') problems.push('upper-case sha256= prefix');
  } else {
    problems.push('missing the sha256= prefix');
  }
  const decoded = decodeDigest(rest, BYTES[algorithm]);
  if (decoded?.problem) problems.push(decoded.problem);
  return {
    digests: decoded ? [decoded.digest] : [],
    algorithm,
    problem: problems.length > 0 ? problems.join(', ') : null,
    signedAt: null,
  };
}

export const skylightScheme: SignatureScheme = {
  presented: (header) => header(HEADER_SIGNATURE),
  decode,
  digest: (body, secret, sig) => createHmac(sig.algorithm, secret).update(body).digest(),
};
