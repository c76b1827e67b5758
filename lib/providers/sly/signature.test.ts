import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { sign, verifySignature } from './signature';

const enc = new TextEncoder();
const body = enc.encode('{"id":"evt_1","type":"transfer.completed","data":{}}');
const NOW = new Date('2026-12-01T12:00:00Z');
const T = Math.floor(NOW.getTime() / 1000);

test('valid: HMAC-SHA256 over "{t}.{raw body}", hex', () => {
  const hex = createHmac('sha256', 'whsec_a').update(`${T}.`).update(body).digest('hex');
  assert.equal(sign(body, 'whsec_a', T), `t=${T},v1=${hex}`);
  assert.deepEqual(verifySignature(body, `t=${T},v1=${hex}`, ['whsec_a'], NOW), { ok: true, secretIndex: 0 });
});

test('several v1 values: any one matching a secret is enough, in any order, with unknown schemes skipped', () => {
  const header = sign(body, ['whsec_old', 'whsec_new'], T);
  assert.deepEqual(verifySignature(body, header, ['whsec_new'], NOW), { ok: true, secretIndex: 0 });
  const [t, v1a, v1b] = header.split(',');
  assert.equal(verifySignature(body, `${v1b}, v0=abc ,${t},${v1a}`, ['whsec_old'], NOW).ok, true);
});

test('rotated list: the receiver tries every configured secret and reports which matched', () => {
  assert.deepEqual(verifySignature(body, sign(body, 'whsec_b', T), ['whsec_a', 'whsec_b'], NOW), {
    ok: true,
    secretIndex: 1,
  });
  assert.deepEqual(verifySignature(body, sign(body, 'whsec_b', T), ['whsec_a'], NOW), {
    ok: false,
    reason: 'signature_mismatch',
  });
});

test('t within 5 minutes either way is accepted; beyond it, stale or future, each with its reason', () => {
  const at = (offsetS: number) => verifySignature(body, sign(body, 'k', T + offsetS), ['k'], NOW);
  assert.equal(at(-300).ok, true);
  assert.equal(at(300).ok, true);
  assert.deepEqual(at(-301), { ok: false, reason: 'timestamp_stale' });
  assert.deepEqual(at(301), { ok: false, reason: 'timestamp_future' });
});

test('missing t: its own reason, even with a valid-looking v1', () => {
  const v1 = sign(body, 'k', T).split(',')[1]!;
  assert.deepEqual(verifySignature(body, v1, ['k'], NOW), { ok: false, reason: 'timestamp_missing' });
});

test('tampered body and wrong secret: mismatch (checked before the clock, so a forgery learns nothing)', () => {
  const header = sign(body, 'k', T);
  const tampered = enc.encode('{"id":"evt_1","type":"transfer.completed","data":{"x":1}}');
  assert.deepEqual(verifySignature(tampered, header, ['k'], NOW), {
    ok: false,
    reason: 'signature_mismatch',
  });
  assert.deepEqual(verifySignature(body, header, ['other'], NOW), {
    ok: false,
    reason: 'signature_mismatch',
  });
  // A t that was changed after signing is a different signed string.
  assert.deepEqual(verifySignature(body, header.replace(`t=${T}`, `t=${T + 1}`), ['k'], NOW), {
    ok: false,
    reason: 'signature_mismatch',
  });
  const staleForgery = sign(body, 'other', T - 3600);
  assert.deepEqual(verifySignature(body, staleForgery, ['k'], NOW), {
    ok: false,
    reason: 'signature_mismatch',
  });
});

test('missing and malformed headers', () => {
  const v1 = `v1=${'a'.repeat(64)}`;
  for (const h of [null, undefined, '', '   ']) {
    assert.deepEqual(verifySignature(body, h, ['k'], NOW), { ok: false, reason: 'signature_missing' });
  }
  for (const h of [
    `t=${T}`,
    `t=${T},v1=${'A'.repeat(64)}`,
    `t=${T},v1=${'a'.repeat(63)}`,
    `t=${T},${v1},garbage`,
    `t=${T},t=${T},${v1}`,
    `t=-5,${v1}`,
    `t=12.5,${v1}`,
    `sha256=${'a'.repeat(64)}`,
    `t=${T},${Array.from({ length: 9 }, () => v1).join(',')}`,
    `t=${T},${v1},${'x'.repeat(2000)}=1`,
  ]) {
    assert.deepEqual(verifySignature(body, h, ['k'], NOW), { ok: false, reason: 'signature_malformed' }, h);
  }
});

test('no secrets configured: every signature is a mismatch', () => {
  assert.deepEqual(verifySignature(body, sign(body, 'k', T), [], NOW), {
    ok: false,
    reason: 'signature_mismatch',
  });
});
