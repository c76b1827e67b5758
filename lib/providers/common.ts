// Parsing steps every JSON webhook provider shares. Provider folders import these; nothing here
// knows a provider.
import { parseJsonLossless } from '@/lib/json';

/** Ids and names we store: printable ASCII without spaces, as every provider documents them. */
export const PRINTABLE_ID = /^[\x21-\x7e]{1,200}$/;

export type JsonObjectResult = { ok: true; json: Record<string, unknown> } | { ok: false; reason: string };

/** The verified body as a JSON object, or why it is not one. */
export function readJsonObject(raw: Uint8Array): JsonObjectResult {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    return { ok: false, reason: 'body is not valid UTF-8' };
  }
  let json: unknown;
  try {
    json = parseJsonLossless(text);
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, reason: 'body is not a JSON object' };
  }
  return { ok: true, json: json as Record<string, unknown> };
}

/** ISO 8601 string or Unix seconds (integer or numeric string, as timestamp headers carry them). */
export function parseTimestamp(value: string | number | undefined | null): Date | null | 'invalid' {
  if (value === undefined || value === null || value === '') return null;
  let ms: number;
  if (typeof value === 'number' || /^\d{1,12}$/.test(value)) {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0 || n > 1e11) return 'invalid';
    ms = n * 1000;
  } else {
    if (!/^\d{4}-\d{2}-\d{2}T/.test(value)) return 'invalid';
    ms = Date.parse(value);
  }
  // Year 0 and before parse here but are no time Postgres takes from us (and no provider's).
  return Number.isFinite(ms) && ms >= FIRST_STORABLE_MS ? new Date(ms) : 'invalid';
}

/** 0001-01-01T00:00:00Z. */
const FIRST_STORABLE_MS = -62_135_596_800_000;

/** A header value that is a well-formed id, else null (headers are unsigned: never trusted further). */
export function headerId(value: string | null): string | null {
  return value !== null && PRINTABLE_ID.test(value) ? value : null;
}

/** The first zod issue as "field: message", with "is required" for a missing field. */
export function issueReason(issue: { path: PropertyKey[]; code: string; message: string; input?: unknown }) {
  const field = issue.path.map(String).join('.') || 'body';
  return `${field}: ${issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message}`;
}

/**
 * A digest of `bytes` bytes from a signature header, read leniently: lower-case hex is the documented
 * form; upper-case hex and base64 are decoded too and named as the problem. Null: none of these.
 */
export function decodeDigest(text: string, bytes: number): { digest: Buffer; problem: string | null } | null {
  if (new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(text))
    return { digest: Buffer.from(text, 'hex'), problem: null };
  if (new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(text)) {
    return { digest: Buffer.from(text, 'hex'), problem: 'upper-case hex' };
  }
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    const digest = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
    if (digest.length === bytes) return { digest, problem: 'base64 instead of hex' };
  }
  return null;
}
