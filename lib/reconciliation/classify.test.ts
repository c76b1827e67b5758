import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ProviderLogEntry } from '@/lib/providers/types';
import { adviceFor } from './advice';
import { type ReceiptFact, reconcile, retryDeadline } from './classify';

const RULES = { retryDelaysMs: [2 * 60_000, 10 * 60_000, 30 * 60_000], timeoutMs: 30_000 };
const T0 = new Date('2026-03-04T12:00:00Z').getTime();
const at = (min: number) => new Date(T0 + min * 60_000);
const hook = { provider: 'skylight', webhookId: 12, source: 'skylightchat' };

let rowId = 0;
function entry(
  p: Partial<ProviderLogEntry> & Pick<ProviderLogEntry, 'status' | 'attemptNumber'>,
): ProviderLogEntry {
  return {
    rowId: String(++rowId),
    deliveryId: 'd1',
    eventType: 'contact.created',
    responseStatus: null,
    sentAt: at(0),
    nextAttemptAt: null,
    fingerprint: null,
    ...p,
  };
}
function receipt(p: Partial<ReceiptFact>): ReceiptFact {
  return {
    id: 1,
    deliveryId: 'd1',
    httpStatus: 200,
    outcome: 'accepted',
    reason: null,
    ackMs: 12,
    receivedAt: at(0),
    ...p,
  };
}

describe('reconcile', () => {
  test('a retry still pending: the time left runs to the last attempt plus the timeout', () => {
    const entries = [
      entry({ status: 'failed', attemptNumber: 1, responseStatus: 400, sentAt: at(0) }),
      entry({ status: 'pending', attemptNumber: 2, sentAt: at(0), nextAttemptAt: at(2) }),
    ];
    const [row] = reconcile(
      hook,
      entries,
      [receipt({ httpStatus: 400, outcome: 'rejected', reason: 'signature mismatch' })],
      RULES,
      at(1),
    );
    assert.equal(row!.class, 'answered_non_2xx');
    assert.equal(row!.providerStatus, 'pending');
    assert.equal(row!.attempts, 2);
    // Attempt 2 at +2 min, 3 at +12, 4 at +42; it times out 30 s later.
    assert.equal(row!.retryDeadlineAt!.toISOString(), new Date(at(42).getTime() + 30_000).toISOString());
    const advice = adviceFor(
      { ...row!, providerResponseStatus: 400 } as Parameters<typeof adviceFor>[0],
      at(1),
    );
    assert.match(advice, /We answered 400 \(signature mismatch\)/);
    assert.match(advice, /within 41 min/);
  });

  test('the deadline from a failed attempt with no pending row yet equals the one from its pending successor', () => {
    const failed = entry({ status: 'failed', attemptNumber: 3, sentAt: at(12) });
    assert.equal(retryDeadline(failed, false, RULES).getTime(), at(42).getTime() + 30_000);
    const last = entry({ status: 'failed', attemptNumber: 4, sentAt: at(42) });
    assert.equal(retryDeadline(last, false, RULES).getTime(), at(42).getTime() + 30_000);
  });

  test('four failed attempts: lost, with what we answered', () => {
    const entries = [1, 2, 3, 4].map((n) =>
      entry({ status: 'failed', attemptNumber: n, responseStatus: 400, sentAt: at([0, 2, 12, 42][n - 1]!) }),
    );
    const [row] = reconcile(
      hook,
      entries,
      [receipt({ httpStatus: 400, outcome: 'rejected', receivedAt: at(42) })],
      RULES,
      at(43),
    );
    assert.equal(row!.class, 'provider_failed');
    assert.equal(row!.exhausted, true);
    assert.equal(row!.retryDeadlineAt, null);
    assert.equal(row!.firstSentAt.getTime(), at(0).getTime());
    assert.equal(row!.ourHttpStatus, 400);
  });

  test('a failed attempt with no successor long past its next retry (webhook switched off): lost', () => {
    const entries = [entry({ status: 'failed', attemptNumber: 1, sentAt: at(0) })];
    assert.equal(reconcile(hook, entries, [], RULES, at(1))[0]!.class, 'never_received');
    assert.equal(reconcile(hook, entries, [], RULES, at(10))[0]!.class, 'provider_failed');
  });

  test('a 2xx that took longer than the timeout is acked_late, even after the provider retried', () => {
    const entries = [
      entry({ status: 'failed', attemptNumber: 1, responseStatus: null }),
      entry({ status: 'delivered', attemptNumber: 2, responseStatus: 200, sentAt: at(2) }),
    ];
    const [row] = reconcile(hook, entries, [receipt({ ackMs: 31_000 })], RULES, at(3));
    assert.equal(row!.class, 'acked_late');
    const [ok] = reconcile(
      hook,
      entries,
      [receipt({ ackMs: 31_000 }), receipt({ id: 2, ackMs: 5, receivedAt: at(2) })],
      RULES,
      at(3),
    );
    assert.equal(ok!.class, 'matched');
    assert.equal(ok!.receiptId, 2);
  });

  test('delivered per the provider, no receipt: someone else answered (never_received)', () => {
    const [row] = reconcile(
      hook,
      [entry({ status: 'delivered', attemptNumber: 1, responseStatus: 200 })],
      [],
      RULES,
      at(1),
    );
    assert.equal(row!.class, 'never_received');
  });

  test('a refusal without a receipt (past the sampling cap) is ours when the webhook points here', () => {
    const entries = [
      entry({ status: 'failed', attemptNumber: 1, responseStatus: 400 }),
      entry({ status: 'pending', attemptNumber: 2, nextAttemptAt: at(2) }),
    ];
    assert.equal(reconcile(hook, entries, [], RULES, at(1))[0]!.class, 'answered_non_2xx');
    assert.equal(reconcile({ ...hook, source: null }, entries, [], RULES, at(1))[0]!.class, 'never_received');
  });

  test('attempts with new ids are one delivery when their bodies match; a not-yet-sent one is left out', () => {
    const entries = [
      entry({ status: 'failed', attemptNumber: 1, deliveryId: 'a', fingerprint: 'f', responseStatus: 503 }),
      entry({
        status: 'delivered',
        attemptNumber: 2,
        deliveryId: 'b',
        fingerprint: 'f',
        responseStatus: 200,
        sentAt: at(2),
      }),
      entry({ status: 'pending', attemptNumber: 1, deliveryId: 'c', fingerprint: 'g' }),
    ];
    const rows = reconcile(hook, entries, [receipt({ deliveryId: 'b', receivedAt: at(2) })], RULES, at(3));
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.deliveryId, 'b');
    assert.equal(rows[0]!.class, 'matched');
    assert.equal(rows[0]!.attempts, 2);
  });
});
