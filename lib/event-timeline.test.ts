import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventTimeline, type TimelineAttempt, type TimelineChange } from './event-timeline';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const attempt = (id: number, n: number, s: number, result: string): TimelineAttempt => ({
  id,
  attempt: n,
  started_at: at(s),
  duration_ms: 12,
  result,
  error: result === 'success' ? null : 'notify: downstream answered 503',
});

test('attempts and changes read in time order; a change at the same instant follows its attempt', () => {
  const changes: TimelineChange[] = [
    { id: 1, at: at(2), kind: 'dead_lettered', actor: null, detail: 'transient errors, 2 attempts used' },
    { id: 2, at: at(5), kind: 'retried', actor: 'ops@example.test', detail: 'retry' },
    { id: 3, at: at(9), kind: 'retried', actor: 'lead@example.test', detail: 'bulk retry' },
  ];
  const steps = eventTimeline(
    [attempt(10, 1, 1, 'transient'), attempt(11, 2, 2, 'transient'), attempt(12, 3, 6, 'permanent')],
    changes,
  );
  assert.deepEqual(
    steps.map((s) => s.label),
    [
      'Attempt 1: transient',
      'Attempt 2: transient',
      'Dead-lettered',
      'Retried by hand by ops@example.test',
      'Attempt 3: permanent',
      'Bulk retry by lead@example.test',
    ],
  );
  assert.equal(steps[2]!.detail, 'transient errors, 2 attempts used');
  assert.equal(steps[4]!.tone, 'bad');
});
