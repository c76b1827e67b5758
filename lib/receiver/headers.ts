const HEADER_VALUE_KEEP = 512;
const HEADERS_KEEP = 40;
/** Never stored at all: session and API credentials of our own dashboard. */
const DROPPED = new Set(['cookie', 'authorization', 'x-api-key']);
/**
 * Stored as "[redacted]": any header whose name says it carries a credential (Proxy-Authorization,
 * X-Auth-Token, X-Api-Token, X-Access-Key, X-Client-Secret, a signature…). Receipts are shown to
 * every operator; a name match is broad on purpose, since a false positive only hides a value.
 */
const CREDENTIAL =
  /auth|token|secret|passw|credential|signature|session|cookie|api[-_]?key|access[-_]?key|private/i;

/** Header values are attacker-controlled: strip control characters (no log or CSV injection) and cap. */
export function cleanHeaderValue(value: string | null, max: number): string | null {
  if (value === null) return null;
  const v = value.replace(/[\x00-\x1f\x7f-\x9f]/g, '').slice(0, max);
  return v === '' ? null : v;
}

/**
 * The headers a receipt keeps: at most 40, values capped, credentials dropped or redacted, and the
 * provider's own signature headers (`redacted`, lower case) redacted whatever their name.
 */
export function storedHeaders(
  entries: Iterable<[string, string]>,
  redacted: readonly string[] = [],
): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  for (const [name, value] of entries) {
    const key = name.toLowerCase();
    if (DROPPED.has(key)) continue;
    if (n++ >= HEADERS_KEEP) break;
    out[key.slice(0, 100)] =
      CREDENTIAL.test(key) || redacted.includes(key)
        ? '[redacted]'
        : (cleanHeaderValue(value, HEADER_VALUE_KEEP) ?? '');
  }
  return out;
}
