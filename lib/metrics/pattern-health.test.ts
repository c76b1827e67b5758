import assert from 'node:assert/strict';
import { test } from 'node:test';
import { patternSignals } from './pattern-health';

const calm = { ackP95: 20, handlerP95: 15, oldestPendingMs: 200, queueDepth: 1 };

test('no signals when everything is fast', () => {
  assert.deepEqual(patternSignals(calm), []);
  assert.deepEqual(
    patternSignals({ ackP95: null, handlerP95: null, oldestPendingMs: null, queueDepth: 0 }),
    [],
  );
});

test('ack near the budget warns, over it is bad', () => {
  assert.equal(patternSignals({ ...calm, ackP95: 850 })[0]?.level, 'warn');
  assert.equal(patternSignals({ ...calm, ackP95: 1200 })[0]?.level, 'bad');
});

test('slow handlers and a stuck queue each raise a signal', () => {
  const s = patternSignals({ ...calm, handlerP95: 450, oldestPendingMs: 120_000, queueDepth: 900 });
  assert.deepEqual(
    s.map((x) => [x.id, x.level]),
    [
      ['handler', 'warn'],
      ['backlog', 'warn'],
    ],
  );
});
