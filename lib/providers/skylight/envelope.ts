import { createHash } from 'node:crypto';
import { z } from 'zod';
import { MAX_JSON_DEPTH, numberText, storableJsonText, stringifyJson } from '@/lib/json';
import { parseTimestamp, readJsonObject } from '../common';

export { parseTimestamp };

/**
 * The delivery envelope. The docs disagree (provider-contract.md §6 C1, C2): `timestamp` is an ISO
 * string or Unix seconds, and `data` is nested (`data.contact`) or flat. Both are accepted; the raw
 * body is kept separately so nothing is lost.
 */
export const envelopeSchema = z.object({
  event: z
    .string()
    .min(1, 'must not be empty')
    .max(100, 'must be at most 100 characters')
    .regex(/^[a-z0-9_]+(\.[a-z0-9_]+)+$/, 'must look like "resource.action"'),
  delivery_id: z
    .string()
    .min(1)
    .max(200, 'must be at most 200 characters')
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .optional(),
  timestamp: z.union([z.string().max(64), z.number()]).optional(),
  data: z.record(z.string(), z.unknown()),
});

export type Envelope = {
  event: string;
  deliveryId: string;
  timestamp: Date | null;
  data: Record<string, unknown>;
  fingerprint: string;
  /** The envelope, numbers exact, in the form Postgres's jsonb can hold (lib/json.ts). */
  payloadText: string;
};

export type EnvelopeParse =
  | { ok: true; envelope: Envelope }
  | { ok: false; reason: string; event?: string; deliveryId?: string };

const DELIVERY_ID = /^[\x21-\x7e]{1,200}$/;

/** Parses and validates the raw body. `headerDeliveryId` is the fallback for a body without one. */
export function parseEnvelope(raw: Uint8Array, headerDeliveryId: string | null): EnvelopeParse {
  const read = readJsonObject(raw);
  if (!read.ok) return read;
  const json = read.json;
  const headerId = headerDeliveryId && DELIVERY_ID.test(headerDeliveryId) ? headerDeliveryId : undefined;
  const result = envelopeSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.path.join('.') || 'body';
    const partial = json as Record<string, unknown>;
    return {
      ok: false,
      reason: `${field}: ${issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message}`,
      event: typeof partial.event === 'string' ? partial.event.slice(0, 100) : undefined,
      deliveryId: typeof partial.delivery_id === 'string' ? partial.delivery_id.slice(0, 200) : headerId,
    };
  }
  // zod copies records into a fresh {} and skips "__proto__" keys; JSON.parse made them own data
  // properties, so the validated original keeps every member (and its fingerprint covers it).
  const v = { ...result.data, data: (json as { data: Record<string, unknown> }).data };
  const deliveryId = v.delivery_id ?? headerId;
  if (!deliveryId) {
    return { ok: false, reason: 'delivery_id: missing from body and X-Skylight-Delivery', event: v.event };
  }
  const timestamp = parseTimestamp(v.timestamp);
  if (timestamp === 'invalid') {
    return {
      ok: false,
      reason: 'timestamp: not an ISO 8601 time or Unix seconds',
      event: v.event,
      deliveryId,
    };
  }
  let fp: string;
  try {
    fp = fingerprint(v.event, v.data);
  } catch (err) {
    if (err instanceof RangeError)
      return { ok: false, reason: `data: ${err.message}`, event: v.event, deliveryId };
    throw err;
  }
  return {
    ok: true,
    envelope: {
      event: v.event,
      deliveryId,
      timestamp,
      data: v.data,
      fingerprint: fp,
      // The envelope's own members only: an extra top-level member (however deep) is not queued.
      payloadText: storableJsonText(
        stringifyJson({ event: v.event, delivery_id: deliveryId, timestamp: v.timestamp, data: v.data }),
      ),
    },
  };
}

/** Deterministic JSON with sorted keys, so the fingerprint ignores key order. */
export function canonicalJson(value: unknown, depth = 0): string {
  if (depth > MAX_JSON_DEPTH) throw new RangeError(`nested deeper than ${MAX_JSON_DEPTH} levels`);
  const exact = numberText(value);
  if (exact !== null) return exact;
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, depth + 1)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k], depth + 1)}`).join(',')}}`;
}

/** Second dedupe key: event + data. Catches a retry that arrives with a new delivery_id (C7). */
export function fingerprint(event: string, data: unknown): string {
  return createHash('sha256').update(event).update('\n').update(canonicalJson(data)).digest('hex');
}
