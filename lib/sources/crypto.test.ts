import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadKey, parseKey, SecretBox } from './crypto';

test('seal and open round-trip; the stored form never contains the secret', () => {
  const box = new SecretBox(randomBytes(32));
  const sealed = box.seal('orders', 'whsec_super_secret_value');
  assert.doesNotMatch(sealed, /super_secret/);
  assert.notEqual(box.seal('orders', 'whsec_super_secret_value'), sealed, 'a fresh IV per seal');
  assert.equal(box.open('orders', sealed), 'whsec_super_secret_value');
});

test('a wrong key, another source or an altered byte does not open', () => {
  const box = new SecretBox(randomBytes(32));
  const sealed = box.seal('orders', 'whsec_x');
  assert.throws(() => new SecretBox(randomBytes(32)).open('orders', sealed));
  assert.throws(() => box.open('payments', sealed));
  const parts = sealed.split('.');
  parts[3] = Buffer.from('whsec_y').toString('base64url');
  assert.throws(() => box.open('orders', parts.join('.')));
  assert.throws(() => box.open('orders', 'plain-text'));
});

test('keys: hex or base64 from the environment; PGlite demo mode generates one file with mode 0600', () => {
  const hex = randomBytes(32).toString('hex');
  assert.deepEqual(parseKey(hex), Buffer.from(hex, 'hex'));
  assert.equal(loadKey({ databaseUrl: 'postgres://x/y', pgliteDir: '.data/pglite' }), null);
  const dir = mkdtempSync('/tmp/secrets-key-');
  try {
    const pgliteDir = path.join(dir, 'pglite');
    const first = loadKey({ pgliteDir });
    assert.equal(first?.length, 32);
    const file = path.join(dir, 'secrets.key');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(loadKey({ pgliteDir }), first, 'the same key on the next start');
    assert.deepEqual(parseKey(readFileSync(file, 'utf8').trim()), first);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
