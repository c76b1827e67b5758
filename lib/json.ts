import { isLosslessNumber, isSafeNumber, LosslessNumber, parse, stringify } from 'lossless-json';

/**
 * A JSON number a double may not hold exactly: 16 or more digits (any double holds 15 significant
 * ones; leading zeros count too, which only errs to the safe side), or a 3-digit exponent. Only
 * number tokens count: one starts the text or follows `:`, `,` or `[` and whitespace. A string can
 * hold the same characters (then the lossless parse runs anyway, still right). Unanchored, as this
 * was before, an `e` and three digits inside a UUID matched: a quarter of the deliveries with UUID
 * ids took the parse that is 2.6x slower, in the receiver and again in the worker; and a number
 * like 12345678.123456789, with no 16 digits in a row, went through JSON.parse and was rounded.
 */
const UNSAFE_NUMBER = /(?:^|[:,[])\s*-?(?:(?:\d\.?){16}|\d+(?:\.\d+)?[eE][+-]?\d{3})/;

/**
 * JSON.parse, except that a number a double cannot hold exactly stays as its source text (a
 * LosslessNumber): 9007199254740993 or 1e400 must reach the database as sent, not rounded or null.
 * Plain JSON.parse whenever the text has no such number (the common case, and much faster).
 */
export function parseJsonLossless(text: string): unknown {
  if (!UNSAFE_NUMBER.test(text)) return JSON.parse(text);
  return parse(text, null, (value) => (isSafeNumber(value) ? Number(value) : new LosslessNumber(value)));
}

/**
 * How deep a stored payload may nest. Deeper bodies are refused as malformed: the recursive
 * serialisers (lossless-json's stringify, the fingerprint's canonical form) would otherwise run out of
 * stack on a signed body of a few kilobytes, and no provider's event nests anywhere near this.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether a parsed value holds anything deeper than `max` levels below it; walks without recursing. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const todo: Array<[unknown, number]> = [[value, 0]];
  while (todo.length > 0) {
    const [v, depth] = todo.pop()!;
    if (depth > max) return true;
    if (v === null || typeof v !== 'object' || isLosslessNumber(v)) continue;
    for (const child of Array.isArray(v) ? v : Object.values(v)) todo.push([child, depth + 1]);
  }
  return false;
}

/** JSON.stringify that writes LosslessNumbers and bigints as their exact digits. */
export function stringifyJson(value: unknown): string {
  return stringify(value) ?? 'null';
}

/**
 * For handlers: integers beyond Number.MAX_SAFE_INTEGER come back as bigint (a contact id of
 * 9007199254740993 must not turn into 9007199254740992); other numbers as doubles.
 */
export function parseExactJson(text: string): unknown {
  if (!UNSAFE_NUMBER.test(text)) return JSON.parse(text);
  return parse(text, null, (value) =>
    isSafeNumber(value) || !/^-?\d+$/.test(value) ? Number(value) : BigInt(value),
  );
}

/** A number's exact text, for fingerprints: the same for 1 and 1.0 as JSON.stringify gives. */
export function numberText(value: unknown): string | null {
  if (typeof value === 'bigint') return value.toString();
  if (isLosslessNumber(value)) return (value as LosslessNumber).toString();
  return null;
}

const ESCAPE = /\\(?:u([0-9a-fA-F]{4})|[\s\S])/g;

/**
 * The JSON text with the two escapes Postgres's jsonb cannot hold replaced by U+FFFD: `\u0000` and a
 * lone UTF-16 surrogate (`"\ud83d"`, what a sender produces when it cuts an emoji in half). Text
 * columns cannot hold them either, so this is what any handler could store anyway; everything else,
 * numbers included, stays as it is. The raw body is kept separately, byte for byte, in the receipt.
 * Scans escapes from the left so `\\u0000` (an escaped backslash, then text) is left alone.
 */
export function storableJsonText(text: string): string {
  if (!text.includes('\\u')) return text;
  let out = '';
  let last = 0;
  let pendingHigh: { start: number; end: number } | null = null;
  const replace = (start: number, end: number) => {
    out += `${text.slice(last, start)}\\ufffd`;
    last = end;
  };
  for (const m of text.matchAll(ESCAPE)) {
    const start = m.index;
    const end = start + m[0].length;
    const code = m[1] === undefined ? null : Number.parseInt(m[1], 16);
    const isLow = code !== null && code >= 0xdc00 && code <= 0xdfff;
    if (pendingHigh) {
      if (isLow && start === pendingHigh.end) {
        pendingHigh = null;
        continue;
      }
      replace(pendingHigh.start, pendingHigh.end);
      pendingHigh = null;
    }
    if (code === null) continue;
    if (code === 0 || isLow) replace(start, end);
    else if (code >= 0xd800 && code <= 0xdbff) pendingHigh = { start, end };
  }
  if (pendingHigh) replace(pendingHigh.start, pendingHigh.end);
  return out + text.slice(last);
}
