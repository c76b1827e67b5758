import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseJsonLossless, stringifyJson } from '@/lib/json';
import { fingerprint, parseEnvelope } from './envelope';
import { sign, verifySignature } from './signature';

// Property tests over the two functions every request goes through before anything is stored.
// 15,000 generated cases in all; the receiver tests cover the same ground over HTTP.

const enc = new TextEncoder();
const EVENT = /^[a-z0-9_]+(\.[a-z0-9_]+)+$/;
const DELIVERY_ID = /^[\x21-\x7e]{1,200}$/;

/** Headers that look almost right: the prefix, then 60–68 characters drawn mostly from hex. */
const nearMissHeader = fc
  .tuple(
    fc.constantFrom('sha256=', 'SHA256=', 'sha256:', 'sha1=', ''),
    fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF g='), minLength: 60, maxLength: 68 }),
  )
  .map(([p, h]) => p + h);

const anyHeader = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 120 }),
  nearMissHeader,
  fc.constant(null),
  fc.constant(undefined),
);

/** Printable-ASCII secrets: two different ones are always two different HMAC keys. */
const secret = fc.string({ minLength: 1, maxLength: 80 });

test('verifySignature never throws, whatever the body, header and secrets', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 512 }),
      anyHeader,
      fc.array(fc.string({ unit: 'binary', maxLength: 100 }), { maxLength: 3 }),
      (body, header, secrets) => {
        const r = verifySignature(body, header, secrets);
        if (r.ok) {
          assert.ok(r.secretIndex >= 0 && r.secretIndex < secrets.length);
          assert.equal(header?.trim(), sign(body, secrets[r.secretIndex]!));
        } else {
          assert.ok(['signature_missing', 'signature_malformed', 'signature_mismatch'].includes(r.reason));
        }
      },
    ),
    { numRuns: 3000 },
  );
});

test('only the exact body and secret verify; the matching secret is reported in a rotation list', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 256 }),
      fc.uint8Array({ maxLength: 256 }),
      secret,
      secret,
      (body, otherBody, key, otherKey) => {
        const header = sign(body, key);
        assert.deepEqual(verifySignature(body, header, [key]), { ok: true, secretIndex: 0 });
        assert.deepEqual(verifySignature(body, header, [otherKey, key]), {
          ok: true,
          secretIndex: otherKey === key ? 0 : 1,
        });
        if (!Buffer.from(otherBody).equals(Buffer.from(body))) {
          assert.deepEqual(verifySignature(otherBody, header, [key]), {
            ok: false,
            reason: 'signature_mismatch',
          });
        }
        if (otherKey !== key) {
          assert.deepEqual(verifySignature(body, header, [otherKey]), {
            ok: false,
            reason: 'signature_mismatch',
          });
        }
      },
    ),
    { numRuns: 2000 },
  );
});

test('any single-character change to a valid header is refused', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 128 }),
      secret,
      fc.nat(),
      fc.constantFrom('replace', 'upper', 'drop', 'insert'),
      (body, key, at, how) => {
        const header = sign(body, key);
        const i = at % header.length;
        let mutated: string;
        if (how === 'replace') {
          const c = header[i] === '0' ? '1' : '0';
          mutated = header.slice(0, i) + c + header.slice(i + 1);
        } else if (how === 'upper') {
          const j = 7 + (at % 64);
          mutated = header.slice(0, j) + header[j]!.toUpperCase() + header.slice(j + 1);
          fc.pre(mutated !== header);
        } else if (how === 'drop') {
          mutated = header.slice(0, i) + header.slice(i + 1);
        } else {
          mutated = `${header.slice(0, i)}a${header.slice(i)}`;
        }
        assert.equal(verifySignature(body, mutated, [key]).ok, false, mutated);
      },
    ),
    { numRuns: 2000 },
  );
});

/** Checks the shape of any parse result: a valid envelope, or a reason. */
function assertWellFormed(r: ReturnType<typeof parseEnvelope>) {
  if (r.ok) {
    assert.match(r.envelope.event, EVENT);
    assert.match(r.envelope.deliveryId, DELIVERY_ID);
    assert.match(r.envelope.fingerprint, /^[0-9a-f]{64}$/);
    assert.ok(r.envelope.timestamp === null || Number.isFinite(r.envelope.timestamp.getTime()));
  } else {
    assert.equal(typeof r.reason, 'string');
    assert.ok(r.reason.length > 0);
  }
}

test('parseEnvelope never throws on arbitrary bytes and header ids', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 512 }),
      fc.option(fc.string({ unit: 'binary', maxLength: 250 })),
      (raw, headerId) => {
        assertWellFormed(parseEnvelope(raw, headerId));
      },
    ),
    { numRuns: 3000 },
  );
});

const validEvent = fc
  .tuple(
    fc.stringMatching(/^[a-z0-9_]{1,12}$/),
    fc.array(fc.stringMatching(/^[a-z0-9_]{1,12}$/), { minLength: 1, maxLength: 3 }),
  )
  .map(([head, rest]) => [head, ...rest].join('.'));
const validDeliveryId = fc.stringMatching(/^[\x21-\x7e]{1,200}$/);

test('parseEnvelope never throws on JSON objects with any mix of right and wrong fields', () => {
  const field = (good: fc.Arbitrary<unknown>) => fc.oneof(good, fc.jsonValue({ maxDepth: 4 }));
  fc.assert(
    fc.property(
      fc.record(
        {
          event: field(validEvent),
          delivery_id: field(validDeliveryId),
          timestamp: field(fc.integer({ min: 0, max: 1e11 })),
          data: field(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 }))),
          extra: fc.jsonValue({ maxDepth: 3 }),
        },
        { requiredKeys: [] },
      ),
      fc.option(validDeliveryId),
      (obj, headerId) => {
        assertWellFormed(parseEnvelope(enc.encode(JSON.stringify(obj)), headerId));
      },
    ),
    { numRuns: 2000 },
  );
});

test('any object with a valid event and data round-trips, and its fingerprint ignores key order', () => {
  const timestamp = fc.oneof(
    fc.constant(undefined),
    fc.integer({ min: 0, max: 4_000_000_000 }),
    fc
      .date({
        min: new Date('1971-01-01T00:00:00Z'),
        max: new Date('2100-01-01T00:00:00Z'),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString()),
  );
  fc.assert(
    fc.property(
      validEvent,
      validDeliveryId,
      timestamp,
      fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 6 })),
      fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 3 }),
      (event, deliveryId, ts, data, extra) => {
        // Extra top-level members are tolerated (and not queued); they never override the envelope.
        const body = { ...extra, event, delivery_id: deliveryId, timestamp: ts, data };
        const text = JSON.stringify(body);
        const r = parseEnvelope(enc.encode(text), null);
        assert.ok(r.ok, r.ok ? '' : r.reason);
        // Numbers a double cannot hold come back exact, not rounded: lib/json.ts.
        const expected = (parseJsonLossless(text) as { data: Record<string, unknown> }).data;
        assert.equal(r.envelope.event, event);
        assert.equal(r.envelope.deliveryId, deliveryId);
        assert.deepEqual(r.envelope.data, expected);
        const wantTs = ts === undefined ? null : typeof ts === 'number' ? ts * 1000 : Date.parse(ts);
        assert.equal(r.envelope.timestamp?.getTime() ?? null, wantTs);
        assert.equal(r.envelope.fingerprint, fingerprint(event, expected));

        const reversed = stringifyJson({
          data: Object.fromEntries(Object.entries(expected).reverse()),
          timestamp: ts,
          delivery_id: deliveryId,
          event,
        });
        const again = parseEnvelope(enc.encode(reversed), null);
        assert.ok(again.ok);
        assert.equal(again.envelope.fingerprint, r.envelope.fingerprint);
      },
    ),
    { numRuns: 3000 },
  );
});
