import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  auditQuerySchema,
  createTokenBody,
  createUserBody,
  loginBodySchema,
  updateUserBody,
} from './schemas';

test('emails are lower-cased and trimmed; control characters and odd shapes are refused', () => {
  assert.equal(
    createUserBody.parse({ email: ' Ada@Example.TEST ', role: 'viewer' }).email,
    'ada@example.test',
  );
  assert.equal(loginBodySchema.parse({ email: 'admin@localhost', password: 'x' }).email, 'admin@localhost');
  for (const email of [
    'a\u0000@b.test',
    'a@b\u0000',
    'a b@c.test',
    'no-at',
    '@b.test',
    'a@',
    'a@@b',
    `${'a'.repeat(250)}@b.test`,
  ]) {
    assert.equal(createUserBody.safeParse({ email, role: 'viewer' }).success, false, JSON.stringify(email));
    assert.equal(loginBodySchema.safeParse({ email, password: 'x' }).success, false, JSON.stringify(email));
  }
});

test('user bodies: known roles only, passwords of 12+ characters, strict fields', () => {
  assert.equal(createUserBody.safeParse({ email: 'a@b.test', role: 'root' }).success, false);
  assert.equal(
    createUserBody.safeParse({ email: 'a@b.test', role: 'viewer', password: 'short' }).success,
    false,
  );
  assert.equal(createUserBody.safeParse({ email: 'a@b.test', role: 'viewer', admin: true }).success, false);
  assert.equal(updateUserBody.safeParse({}).success, false, 'a change must change something');
  assert.equal(updateUserBody.safeParse({ disabled: 'yes' }).success, false);
  assert.deepEqual(updateUserBody.parse({ disabled: true }), { disabled: true });
});

test('token names and the audit user filter refuse control characters (a NUL would reach Postgres)', () => {
  assert.equal(createTokenBody.safeParse({ name: 'ci\u0000', role: 'viewer' }).success, false);
  assert.equal(createTokenBody.safeParse({ name: 'ci', role: 'viewer' }).success, true);
  assert.equal(auditQuerySchema.safeParse({ actor: 'a\u0000' }).success, false);
  assert.equal(auditQuerySchema.safeParse({ action: 'drop_table' }).success, false);
  assert.equal(
    auditQuerySchema.safeParse({ from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }).success,
    false,
  );
  assert.equal(auditQuerySchema.safeParse({ actor: 'a@b.test', action: 'dlq_retry' }).success, true);
});
