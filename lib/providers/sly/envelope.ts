import { createHash } from 'node:crypto';
import { z } from 'zod';
import { MAX_JSON_DEPTH, nestsDeeperThan, storableJsonText, stringifyJson } from '@/lib/json';
import { headerId, issueReason, PRINTABLE_ID, parseTimestamp, readJsonObject } from '../common';
import type { EnvelopeResult, HeaderReader } from '../types';
import { HEADER_DELIVERY_ID, HEADER_EVENT_ID } from './protocol';

const id = z.string().regex(PRINTABLE_ID, 'must be 1–200 printable ASCII characters without spaces');

/** `{id, type, created_at | timestamp, data}`; the overview page adds `tenant_id` and `environment`. */
export const envelopeSchema = z.looseObject({
  id: id.optional(),
  type: z
    .string()
    .min(1, 'must not be empty')
    .max(100, 'must be at most 100 characters')
    .regex(/^[a-z0-9_]+(\.[a-z0-9_]+)+$/, 'must look like "resource.action"'),
  created_at: z.union([z.string().max(64), z.number()]).optional(),
  timestamp: z.union([z.string().max(64), z.number()]).optional(),
  data: z.record(z.string(), z.unknown()),
});

/**
 * Parses a verified Sly body. The event id comes from the body (signed), falling back to
 * X-Sly-Event-Id; X-Sly-Delivery-Id names the attempt. Sly's ids are stable, so no fingerprint, but
 * for a body without one.
 */
export function parseEnvelope(raw: Uint8Array, header: HeaderReader): EnvelopeResult {
  const read = readJsonObject(raw);
  if (!read.ok) return read;
  const json = read.json;
  const headerEventId = headerId(header(HEADER_EVENT_ID));
  const result = envelopeSchema.safeParse(json);
  if (!result.success) {
    return {
      ok: false,
      reason: issueReason(result.error.issues[0]!),
      eventType: typeof json.type === 'string' ? json.type.slice(0, 100) : undefined,
      dedupeId: typeof json.id === 'string' ? json.id.slice(0, 200) : (headerEventId ?? undefined),
    };
  }
  const v = result.data;
  const dedupeId = v.id ?? headerEventId;
  if (!dedupeId) return { ok: false, reason: 'id: missing from body and X-Sly-Event-Id', eventType: v.type };
  // The whole body is stored (extra members too), so the whole body's depth counts.
  if (nestsDeeperThan(json, MAX_JSON_DEPTH)) {
    return {
      ok: false,
      reason: `body: nested deeper than ${MAX_JSON_DEPTH} levels`,
      eventType: v.type,
      dedupeId,
    };
  }
  const providerTs = parseTimestamp(v.created_at ?? v.timestamp);
  if (providerTs === 'invalid') {
    return {
      ok: false,
      reason: 'created_at: not an ISO 8601 time or Unix seconds',
      eventType: v.type,
      dedupeId,
    };
  }
  // zod copies records and skips "__proto__" keys; the parsed original keeps every member.
  const data = json.data as Record<string, unknown>;
  return {
    ok: true,
    envelope: {
      eventType: v.type,
      dedupeId,
      attemptId: headerId(header(HEADER_DELIVERY_ID)),
      providerTs,
      // Sly's `t` (checked with the signature) bounds the age of every attempt.
      signedTs: null,
      data,
      payloadText: storableJsonText(stringifyJson({ ...json, data })),
      // An id from the (unsigned) header alone: a captured body sent again with another header id
      // would be a new event, so the signed bytes themselves are a second key. Sly signs each attempt
      // afresh over the same body, so its own retries still meet as one.
      fingerprint: v.id ? null : createHash('sha256').update(raw).digest('hex'),
    },
  };
}
