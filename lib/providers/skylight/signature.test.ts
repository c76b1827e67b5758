import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { sign, verifySignature } from './signature';

const enc = new TextEncoder();

test('accepts the right secret and reports which one matched', () => {
  const body = enc.encode('{"event":"contact.created"}');
  assert.deepEqual(verifySignature(body, sign(body, 'b'), ['a', 'b']), { ok: true, secretIndex: 1 });
});

test('tolerates surrounding whitespace in the header', () => {
  const body = enc.encode('x');
  assert.equal(verifySignature(body, `  ${sign(body, 'k')} `, ['k']).ok, true);
});

test('no secrets configured: every signature is a mismatch', () => {
  const body = enc.encode('x');
  assert.deepEqual(verifySignature(body, sign(body, 'k'), []), { ok: false, reason: 'signature_mismatch' });
});

test('property: only the exact body and secret verify; arbitrary headers never throw', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 256 }),
      fc.string({ minLength: 1 }),
      fc.string(),
      (body, secret, junk) => {
        assert.equal(verifySignature(body, sign(body, secret), [secret]).ok, true);
        const r = verifySignature(body, junk, [secret]);
        if (junk.trim() !== sign(body, secret)) assert.equal(r.ok, false);
        if (body.length > 0) {
          const changed = Uint8Array.from(body);
          changed[0] = (changed[0]! + 1) % 256;
          assert.equal(verifySignature(changed, sign(body, secret), [secret]).ok, false);
        }
      },
    ),
    { numRuns: 2000 },
  );
});
