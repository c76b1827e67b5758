import assert from 'node:assert/strict';
import { test } from 'node:test';
import { metricsQuerySchema } from './schemas';

test('metrics: the default hour before a `to` early in year 1 starts no earlier than year 1', () => {
  const q = metricsQuerySchema.parse({ to: '0001-01-01T00:30:00Z' });
  assert.equal(q.from.toISOString(), '0001-01-01T00:00:00.000Z');
  assert.equal(metricsQuerySchema.safeParse({ to: '0000-12-31T23:00:00Z' }).success, false);
});
