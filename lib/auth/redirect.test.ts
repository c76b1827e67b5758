import assert from 'node:assert/strict';
import { test } from 'node:test';
import { safeNextPath } from './redirect';

test('same-origin paths survive, query and hash included', () => {
  assert.equal(safeNextPath('/dlq?event_type=message.received#x'), '/dlq?event_type=message.received#x');
  assert.equal(safeNextPath('/deliveries/12'), '/deliveries/12');
  assert.equal(safeNextPath('/a/../b'), '/b');
});

test('anything that a browser would read as another origin falls back to /', () => {
  const hostile = [
    '//evil.test',
    '///evil.test',
    '/\t/evil.test',
    '/\n/evil.test',
    '/\r\n/evil.test',
    '\t//evil.test',
    '/\\evil.test',
    '\\\\evil.test',
    '/\\/evil.test',
    '/.//evil.test',
    '/./\\evil.test',
    'https://evil.test/',
    'http:evil.test',
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    ' /evil',
    'evil.test',
    '',
    '/'.padEnd(2001, 'a'),
  ];
  for (const raw of hostile) assert.equal(safeNextPath(raw), '/', JSON.stringify(raw));
  assert.equal(safeNextPath(undefined), '/');
  assert.equal(safeNextPath(null), '/');
});

test('encoded slashes and control characters stay encoded inside our own path', () => {
  for (const raw of [
    '/%2F%2Fevil.test',
    '/%5Cevil.test',
    '/%09/evil.test',
    '/%0A/evil.test',
    '/%0d%0aSet-Cookie:x=1',
  ]) {
    const out = safeNextPath(raw);
    assert.ok(out.startsWith('/') && !out.startsWith('//'), raw);
    assert.doesNotMatch(out, /[\r\n\t]/, raw);
    assert.equal(new URL(out, 'http://ours.test').origin, 'http://ours.test', raw);
  }
});

test('non-Latin-1 input comes out percent-encoded, safe for a Location header', () => {
  for (const raw of ['/ünïcødé', '/日本語?q=é', '/\u2028x', '/\uFF0F\uFF0Fevil.test', '/%ff%fe']) {
    const out = safeNextPath(raw);
    assert.match(out, /^\/[\x21-\x7e]*$/, raw);
    assert.equal(new URL(out, 'http://ours.test').origin, 'http://ours.test', raw);
  }
});
