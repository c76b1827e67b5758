import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { errorMessage, isQueryError } from '@/db/errors';
import { users } from '@/db/schema';
import { logSerializers } from '@/lib/log';
import { describeError } from '@/lib/worker/errors';
import { openTestDb, type TestDb } from './helpers/db';

// drizzle's error for a failed query says "Failed query: <sql> params: <values>" and keeps the values
// in a field; the values here are what a log must never hold (a password hash, a signing secret, a
// contact's data). What the database said is enough to act on.
const HASH = 'scrypt$do-not-log-this-hash';
let t: TestDb;
let failed: unknown;

before(async () => {
  t = await openTestDb();
  await t.db.insert(users).values({ email: 'twice@test.example', role: 'viewer', passwordHash: 'x' });
  failed = await t.db
    .insert(users)
    .values({ email: 'twice@test.example', role: 'viewer', passwordHash: HASH })
    .then(() => null)
    .catch((err: unknown) => err);
});
after(() => t.close());

test("a failed query's log line and stored text keep the database's reason, not the parameters", () => {
  assert.ok(isQueryError(failed), 'drizzle wrapped the failure');
  assert.match((failed as Error).message, /do-not-log-this-hash/, 'the wrapper itself carries the values');

  const line = JSON.stringify(logSerializers().err(failed));
  assert.doesNotMatch(line, /do-not-log-this-hash/);
  assert.match(line, /23505: duplicate key value violates unique constraint/);
  assert.match(line, /"code":"23505"/);
  assert.match(line, /at .*error-logging\.test\.ts/, 'the stack frames stay');

  assert.match(errorMessage(failed), /^23505: duplicate key value/);
  assert.doesNotMatch(describeError(failed), /do-not-log-this-hash/);
});

test('other errors are logged as they are', () => {
  const err = Object.assign(new Error('plain failure'), { code: 'ECONNREFUSED' });
  const line = logSerializers().err(err) as unknown as { message: string; code: string };
  assert.equal(line.message, 'plain failure');
  assert.equal(line.code, 'ECONNREFUSED');
  assert.equal(errorMessage(err), 'plain failure');
  assert.equal(errorMessage('a string'), 'a string');
});
