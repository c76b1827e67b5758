// Control characters other than tab and line breaks, and DEL. NUL in particular: Postgres refuses it
// in text, so a filter holding one would fail the query instead of matching nothing.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export const UNSAFE_TEXT_MESSAGE = 'control characters and unpaired surrogates are not allowed';

/** True for text the API can store, compare and echo faithfully (no unpaired UTF-16 surrogates). */
export function isSafeText(s: string): boolean {
  return s.isWellFormed() && !CONTROL.test(s);
}

/**
 * The path of the first key or string value in a parsed JSON value that isSafeText refuses, or null.
 * Iterative: a 64 KiB body can nest 30 000 levels deep.
 */
export function findUnsafeText(value: unknown): string | null {
  const stack: Array<{ v: unknown; path: string }> = [{ v: value, path: '' }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (!isSafeText(v)) return path;
    } else if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) stack.push({ v: item, path: path ? `${path}.${i}` : String(i) });
    } else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        if (!isSafeText(k)) return path ? `${path}.(key)` : '(key)';
        stack.push({ v: item, path: path ? `${path}.${k}` : k });
      }
    }
  }
  return null;
}
