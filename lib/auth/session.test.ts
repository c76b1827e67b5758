import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clearedSessionCookie, SESSION_COOKIE, sessionCookie, tokenFromCookieHeader } from './session';

test('session cookie is httpOnly and SameSite=Strict', () => {
  const c = sessionCookie('tok', new Date('2026-01-01T00:00:00Z'));
  assert.match(
    c,
    new RegExp(`^${SESSION_COOKIE}=tok; Path=/; HttpOnly; SameSite=Strict; Expires=Thu, 01 Jan 2026`),
  );
  assert.match(clearedSessionCookie(), /Max-Age=0/);
});

test('token is read from a Cookie header among others', () => {
  assert.equal(tokenFromCookieHeader(`a=1; ${SESSION_COOKIE}=xyz; b=2`), 'xyz');
  assert.equal(tokenFromCookieHeader('a=1'), null);
  assert.equal(tokenFromCookieHeader(null), null);
});
