import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toResponse } from './errors';

/** An error as drizzle wraps postgres.js's: the SQLSTATE on the cause. */
const dbError = (code: string) =>
  Object.assign(new Error('Failed query: update events …'), { cause: { code } });

test('a busy database (lock or statement timeout, deadlock, too many connections, read-only) is a 503 to retry, not a 500', async () => {
  for (const code of ['55P03', '57014', '40P01', '40001', '53300', '25006']) {
    const res = toResponse(dbError(code));
    assert.equal(res.status, 503, code);
    assert.equal(res.headers.get('retry-after'), '2', code);
    const body = await res.json();
    assert.equal(body.error.code, 'unavailable', code);
    assert.doesNotMatch(
      JSON.stringify(body),
      /Failed query|update events/,
      'the query never reaches the client',
    );
  }
  assert.equal(toResponse(dbError('08006')).status, 503);
  // A bad query is a bug: 500, with nothing of it in the answer.
  const bug = toResponse(dbError('42P01'));
  assert.equal(bug.status, 500);
  assert.deepEqual(await bug.json(), { error: { code: 'internal', message: 'Internal error' } });
});
