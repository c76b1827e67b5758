import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BACKOFF_CAP_MS, backoffMs } from './backoff';

test('doubles per attempt between half and the full exponential delay', () => {
  for (let attempt = 1; attempt <= 6; attempt++) {
    const full = 2000 * 2 ** (attempt - 1);
    assert.equal(
      backoffMs(attempt, 2000, () => 0),
      full / 2,
    );
    assert.equal(
      backoffMs(attempt, 2000, () => 1),
      full,
    );
  }
});

test('is capped', () => {
  assert.equal(
    backoffMs(40, 2000, () => 1),
    BACKOFF_CAP_MS,
  );
});
