import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashPassword, safeEqual, verifyHash } from './password';

test('scrypt hashes verify the right password only, with a fresh salt each time', async () => {
  const h1 = await hashPassword('correct horse');
  const h2 = await hashPassword('correct horse');
  assert.notEqual(h1, h2);
  assert.match(h1, /^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
  assert.equal(await verifyHash('correct horse', h1), true);
  assert.equal(await verifyHash('correct horsE', h1), false);
  assert.equal(await verifyHash('x', 'garbage'), false);
});

test('safeEqual compares any lengths without throwing', () => {
  assert.equal(safeEqual('abc', 'abc'), true);
  assert.equal(safeEqual('abc', 'abcd'), false);
  assert.equal(safeEqual('', 'a'), false);
});
