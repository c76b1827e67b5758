import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProviderLogEntry, ProviderLogPage } from '@/lib/providers/types';
import { reconcile } from './classify';
import { knownFromRead, type LogPageReader, readDeliveryLog } from './log-read';

const NOW = Date.UTC(2026, 11, 5, 12);
const MIN = 60_000;
const RULES = { retryDelaysMs: [2 * MIN, 10 * MIN, 30 * MIN], timeoutMs: 30_000 };

const entry = (
  rowId: string,
  status: ProviderLogEntry['status'],
  attemptNumber: number,
  minutesAgo: number,
  fingerprint = `fp-${rowId}`,
): ProviderLogEntry => ({
  rowId,
  deliveryId: `d-${rowId}`,
  eventType: 'contact.created',
  status,
  attemptNumber,
  responseStatus: status === 'delivered' ? 200 : status === 'failed' ? 503 : null,
  sentAt: new Date(NOW - minutesAgo * MIN),
  nextAttemptAt: null,
  fingerprint,
});

/** A log as pages: `pages[status ?? 'all'][page - 1]`, with a page count. */
function reader(pages: Record<string, ProviderLogEntry[][]>): LogPageReader & { asked: string[] } {
  const asked: string[] = [];
  const read = async (page: number, status?: 'pending' | 'failed'): Promise<ProviderLogPage> => {
    const key = status ?? 'all';
    asked.push(`${key}:${page}`);
    const list = pages[key] ?? [];
    return { entries: list[page - 1] ?? [], lastPage: list.length };
  };
  return Object.assign(read, { asked });
}

test('a row read twice (the pages shifted between two requests) counts once, as last read', async () => {
  const read = reader({
    all: [
      [entry('a', 'delivered', 1, 1), entry('x', 'pending', 4, 5, 'fp-x')],
      // Between the requests one delivery arrived and attempt 4 of x failed: x is read again.
      [entry('x', 'failed', 4, 5, 'fp-x'), entry('b', 'delivered', 1, 6)],
    ],
  });
  const got = await readDeliveryLog(read, { since: NOW - 120 * MIN, pages: 40, filteredPages: 10 });
  assert.deepEqual(
    got.entries.map((e) => [e.rowId, e.status]),
    [
      ['a', 'delivered'],
      ['x', 'failed'],
      ['b', 'delivered'],
    ],
  );
  assert.deepEqual(read.asked, ['all:1', 'all:2'], 'no filtered reads: the log ended inside the pages');
  const [x] = reconcile(
    { provider: 'any', webhookId: 1, source: 's' },
    got.entries,
    [],
    RULES,
    new Date(NOW),
  ).filter((r) => r.chainKey === 'fp:fp-x');
  assert.equal(x?.attempts, 1);
  assert.equal(x?.exhausted, true, 'its final attempt failed: given up, not retrying');
});

test('a busy log: past the newest pages the pending and failed attempts are read, and only what they prove is kept', async () => {
  const busy = Array.from({ length: 2 }, (_, p) =>
    Array.from({ length: 3 }, (_, i) => entry(`new-${p}-${i}`, 'delivered', 1, 1)),
  );
  const read = reader({
    all: [...busy, [entry('old', 'delivered', 1, 50)]],
    pending: [[entry('due', 'pending', 2, 20, 'fp-due')]],
    failed: [
      [
        entry('gone', 'failed', 4, 40, 'fp-gone'),
        entry('due-1', 'failed', 1, 22, 'fp-due'),
        // Its retry, under a new id, was delivered past the newest pages: not read.
        entry('saved-1', 'failed', 1, 45, 'fp-saved'),
      ],
    ],
  });
  const got = await readDeliveryLog(read, { since: NOW - 120 * MIN, pages: 2, filteredPages: 10 });
  assert.deepEqual(read.asked, ['all:1', 'all:2', 'pending:1', 'failed:1']);
  assert.equal(got.complete, true);
  const rows = reconcile(
    { provider: 'any', webhookId: 1, source: 's' },
    got.entries,
    [],
    RULES,
    new Date(NOW),
  )
    .filter((r) => knownFromRead(r, got, 4))
    .filter((r) => r.providerStatus !== 'delivered');
  assert.deepEqual(rows.map((r) => r.chainKey).sort(), ['fp:fp-due', 'fp:fp-gone']);
  assert.equal(rows.find((r) => r.chainKey === 'fp:fp-gone')?.exhausted, true);
  assert.equal(rows.find((r) => r.chainKey === 'fp:fp-due')?.exhausted, false);
});

test('a filtered read cut by its cap says the read is not complete', async () => {
  const read = reader({
    all: [[entry('n1', 'delivered', 1, 1)], [entry('n2', 'delivered', 1, 2)]],
    failed: [[entry('f1', 'failed', 4, 30)], [entry('f2', 'failed', 4, 31)]],
  });
  const got = await readDeliveryLog(read, { since: NOW - 120 * MIN, pages: 1, filteredPages: 1 });
  assert.equal(got.complete, false);
});
