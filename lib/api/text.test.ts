import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findUnsafeText, isSafeText } from './text';

test('text the database can hold passes; NUL, control characters and lone surrogates do not', () => {
  for (const ok of ['', 'contact.created', 'tab\there', 'line\nbreak', 'é 中文 😀', '%00'])
    assert.ok(isSafeText(ok), ok);
  for (const bad of [
    '\u0000',
    'a\u0000b',
    '\u0001',
    '\u001b[31m',
    '\u007f',
    '\ud83d',
    'x\ude00',
    '\ude00\ud83d',
  ])
    assert.ok(!isSafeText(bad), JSON.stringify(bad));
});

test('findUnsafeText names the first bad value or key, at any depth, without recursion', () => {
  assert.equal(findUnsafeText({ a: 'ok', b: ['x', { c: 'y\u0000' }] }), 'b.1.c');
  assert.equal(findUnsafeText({ 'k\u0000': 1 }), '(key)');
  assert.equal(findUnsafeText({ a: { 'k\ud800': 1 } }), 'a.(key)');
  assert.equal(findUnsafeText({ ids: [1, 2], event_type: 'contact.created' }), null);
  let deep: unknown = 'bad\u0000';
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assert.equal(findUnsafeText(deep)?.split('.').length, 100_000);
});
