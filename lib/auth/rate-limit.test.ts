import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FailureLimiter } from './rate-limit';

test('blocks after max failures and frees up as they age out', () => {
  let now = 0;
  const l = new FailureLimiter(3, 60_000, () => now);
  for (let i = 0; i < 3; i++) {
    assert.equal(l.retryAfterS('a'), null);
    l.fail('a');
    now += 1000;
  }
  assert.equal(l.retryAfterS('a'), 57);
  assert.equal(l.retryAfterS('b'), null, 'other keys are unaffected');
  now = 60_001;
  assert.equal(l.retryAfterS('a'), null, 'the first failure left the window');
});

test('forgive takes back the failures with its tag only', () => {
  const l = new FailureLimiter(2, 60_000, () => 0);
  l.fail('a', 'mine');
  l.fail('a', 'theirs');
  assert.notEqual(l.retryAfterS('a'), null);
  l.forgive('a', 'mine');
  assert.equal(l.retryAfterS('a'), null);
  l.fail('a', 'mine');
  assert.notEqual(l.retryAfterS('a'), null, "the other tag's failure still counts");
  l.forgive('a', 'theirs');
  l.forgive('a', 'mine');
  assert.equal(l.size, 0, 'a key with nothing left is dropped');
});

test('keeps at most maxKeys keys, dropping the least recently failed first', () => {
  let now = 0;
  const l = new FailureLimiter(1, 60_000, () => now, 3);
  for (const k of ['a', 'b', 'c', 'd']) {
    l.fail(k);
    now += 1;
  }
  assert.equal(l.size, 3);
  assert.equal(l.retryAfterS('a'), null, 'the oldest key went');
  assert.notEqual(l.retryAfterS('d'), null);
});

test("fail's undo takes back that one failure only (an attempt that could not be checked)", () => {
  const l = new FailureLimiter(2, 60_000, () => 0);
  l.fail('a', 'x');
  const undo = l.fail('a', 'x');
  assert.notEqual(l.retryAfterS('a'), null);
  undo();
  undo();
  assert.equal(l.retryAfterS('a'), null);
  l.fail('a', 'x');
  assert.notEqual(l.retryAfterS('a'), null, 'the first failure still counts');
});
