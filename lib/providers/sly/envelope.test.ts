import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEnvelope } from './envelope';

const enc = new TextEncoder();
const headers =
  (h: Record<string, string>) =>
  (name: string): string | null =>
    h[name] ?? null;

test('envelope: id, type, created_at and data; the delivery id header names the attempt', () => {
  const r = parseEnvelope(
    enc.encode(
      JSON.stringify({
        id: 'evt_1',
        type: 'transfer.completed',
        created_at: '2026-04-22T14:05:00Z',
        data: { transfer_id: 'tx_1' },
        tenant_id: 'ten_1',
      }),
    ),
    headers({ 'x-sly-delivery-id': 'del_9', 'x-sly-event-id': 'evt_other' }),
  );
  assert.ok(r.ok);
  assert.equal(r.envelope.dedupeId, 'evt_1', 'the signed body wins over the unsigned header');
  assert.equal(r.envelope.attemptId, 'del_9');
  assert.equal(r.envelope.eventType, 'transfer.completed');
  assert.equal(r.envelope.providerTs?.toISOString(), '2026-04-22T14:05:00.000Z');
  assert.equal(r.envelope.fingerprint, null);
  assert.equal(JSON.parse(r.envelope.payloadText).tenant_id, 'ten_1');
});

test('envelope: `timestamp` instead of created_at, and the event id from X-Sly-Event-Id when the body has none', () => {
  const r = parseEnvelope(
    enc.encode(JSON.stringify({ type: 'webhook.dlq', timestamp: '2026-04-23T15:30:00Z', data: {} })),
    headers({ 'x-sly-event-id': 'evt_h' }),
  );
  assert.ok(r.ok);
  assert.equal(r.envelope.dedupeId, 'evt_h');
  assert.equal(r.envelope.providerTs?.toISOString(), '2026-04-23T15:30:00.000Z');
});

test('envelope: each defect named', () => {
  const reason = (body: unknown, h: Record<string, string> = {}) => {
    const r = parseEnvelope(enc.encode(typeof body === 'string' ? body : JSON.stringify(body)), headers(h));
    return r.ok ? null : r.reason;
  };
  assert.equal(reason('not json'), 'body is not JSON');
  assert.equal(reason([1]), 'body is not a JSON object');
  assert.equal(reason({ id: 'evt_1', data: {} }), 'type: is required');
  assert.equal(reason({ id: 'evt_1', type: 'transfer.completed' }), 'data: is required');
  assert.equal(reason({ type: 'transfer.completed', data: {} }), 'id: missing from body and X-Sly-Event-Id');
  assert.match(reason({ id: 'evt 1', type: 'transfer.completed', data: {} }) ?? '', /^id: /);
  assert.equal(
    reason({ id: 'evt_1', type: 'transfer.completed', created_at: 'yesterday', data: {} }),
    'created_at: not an ISO 8601 time or Unix seconds',
  );
});
