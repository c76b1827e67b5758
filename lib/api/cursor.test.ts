import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keysetPage } from '@/db/paging';
import { AppError } from '@/lib/errors';
import { decodeCursor, encodeCursor } from './cursor';

test('cursor round-trips ids and is url-safe', () => {
  for (const id of [1, 42, 9_007_199_254_740_991]) {
    const c = encodeCursor(id);
    assert.match(c, /^[A-Za-z0-9_-]+$/);
    assert.equal(decodeCursor(c), id);
  }
});

test('bad cursors are bad requests, never crashes', () => {
  const bad = [
    '',
    'x',
    '!!!',
    Buffer.from('id:0').toString('base64url'),
    Buffer.from('id:-1').toString('base64url'),
    Buffer.from('id:1.5').toString('base64url'),
    Buffer.from('id:99999999999999999').toString('base64url'),
    Buffer.from('offset:10').toString('base64url'),
    'a'.repeat(100),
  ];
  for (const c of bad) {
    assert.throws(
      () => decodeCursor(c),
      (e) => e instanceof AppError && e.code === 'bad_request',
      c,
    );
  }
});

test('keysetPage returns the last id only when there is more', () => {
  const rows = [{ id: 5 }, { id: 4 }, { id: 3 }];
  assert.deepEqual(keysetPage(rows, 2), { rows: [{ id: 5 }, { id: 4 }], nextId: 4 });
  assert.deepEqual(keysetPage(rows, 3), { rows, nextId: null });
});
