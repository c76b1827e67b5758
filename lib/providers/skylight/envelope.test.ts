import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { canonicalJson, fingerprint, parseEnvelope, parseTimestamp } from './envelope';

const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

test('timestamp: ISO with microseconds, Unix seconds as number or string', () => {
  assert.equal(
    (parseTimestamp('2026-03-04T12:00:00.000000Z') as Date).toISOString(),
    '2026-03-04T12:00:00.000Z',
  );
  assert.equal((parseTimestamp(1741093200) as Date).toISOString(), '2025-03-04T13:00:00.000Z');
  assert.equal((parseTimestamp('1741093200') as Date).toISOString(), '2025-03-04T13:00:00.000Z');
  assert.equal(parseTimestamp(undefined), null);
  assert.equal(parseTimestamp('yesterday'), 'invalid');
  assert.equal(parseTimestamp(-5), 'invalid');
  assert.equal(parseTimestamp('2026-13-45T99:00:00Z'), 'invalid');
});

test('delivery_id falls back to the header; header junk is not used', () => {
  const body = enc({ event: 'contact.created', data: { id: 1 } });
  const ok = parseEnvelope(body, 'abc-123');
  assert.ok(ok.ok && ok.envelope.deliveryId === 'abc-123');
  const bad = parseEnvelope(body, 'has space');
  assert.equal(bad.ok, false);
  assert.match(!bad.ok ? bad.reason : '', /delivery_id/);
});

test('specific reasons for each defect', () => {
  const reason = (v: unknown) => {
    const r = parseEnvelope(enc(v), 'id-1');
    return r.ok ? 'ok' : r.reason;
  };
  assert.equal(reason('nope'), 'body is not JSON');
  assert.equal(reason('null'), 'body is not a JSON object');
  assert.equal(reason({ data: {} }), 'event: is required');
  assert.equal(reason({ event: 'contact.created' }), 'data: is required');
  assert.equal(reason({ event: 'Contact Created', data: {} }), 'event: must look like "resource.action"');
  assert.equal(reason({ event: 'contact.created', data: [] }).startsWith('data:'), true);
  assert.equal(
    reason({ event: 'contact.created', timestamp: 'soon', data: {} }),
    'timestamp: not an ISO 8601 time or Unix seconds',
  );
  assert.equal(parseEnvelope(new Uint8Array([0x7b, 0xff, 0x7d]), null).ok, false);
});

test('data nested deeper than the limit is malformed, not a crash', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 200; i++) deep = { d: deep };
  const r = parseEnvelope(enc({ event: 'contact.created', delivery_id: 'x', data: deep }), null);
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.reason : '', /nested deeper/);
});

test('property: canonical JSON ignores key order and round-trips', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
      const c = canonicalJson(v);
      assert.deepEqual(JSON.parse(c), JSON.parse(JSON.stringify(v)));
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        const reversed = Object.fromEntries(Object.entries(v).reverse());
        assert.equal(canonicalJson(reversed), c);
        assert.equal(fingerprint('e.x', reversed), fingerprint('e.x', v));
      }
    }),
    { numRuns: 2000 },
  );
});

test('property: the parser never throws on arbitrary bytes or JSON', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 512 }),
        fc.jsonValue().map((v) => enc(JSON.stringify(v) ?? 'null')),
      ),
      (bytes) => {
        const r = parseEnvelope(bytes, null);
        assert.equal(typeof r.ok, 'boolean');
      },
    ),
    { numRuns: 5000 },
  );
});
