const BASE = 'http://redirect.invalid';

/**
 * The path to return to after login: parsed the way a browser would (the URL parser drops tabs and
 * newlines and reads `\` as `/`), then accepted only when it stays on our origin. The result is
 * re-serialised by the parser, so it is ASCII and safe in a Location header.
 */
export function safeNextPath(raw: string | undefined | null): string {
  if (!raw || raw.length > 2000 || !raw.startsWith('/')) return '/';
  let url: URL;
  try {
    url = new URL(raw, BASE);
  } catch {
    return '/';
  }
  if (url.origin !== BASE) return '/';
  const path = `${url.pathname}${url.search}${url.hash}`;
  // "/.//evil.test" parses to the path "//evil.test", which a browser reads as another host.
  if (!path.startsWith('/') || path.startsWith('//') || path.startsWith('/\\')) return '/';
  return path;
}
