import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReceiptInsert } from '@/db/schema';
import { skylight } from '@/lib/providers/skylight';
import { ForensicsQueue } from './forensics-queue';

test('the per-minute cap is a sliding minute: no burst of twice the cap across a minute boundary', async () => {
  const recorded: Array<{ id: string; cause: string | undefined }> = [];
  const q = new ForensicsQueue({
    record: (row) => recorded.push({ id: row.deliveryId!, cause: row.forensics?.cause }),
    keyrings: async () => new Map(),
    limits: { perMinute: 2, maxQueued: 16 },
  });
  const job = {
    slug: 'skylightchat',
    scheme: skylight.scheme,
    presented: 'sha256=00',
    body: new TextEncoder().encode('{}'),
    now: new Date(),
    own: { active: [], inactive: [] },
  };
  const row = (id: string) => ({ deliveryId: id }) as ReceiptInsert;
  // 59.9 s and 60.1 s straddle a calendar minute: a per-calendar-minute counter would admit both.
  const at = { a: 59_000, b: 59_900, c: 60_100, d: 119_001 };
  for (const [id, t] of Object.entries(at)) q.submit(row(id), job, t);
  await q.drain();
  const cause = Object.fromEntries(recorded.map((r) => [r.id, r.cause]));
  assert.equal(cause.c, 'not_analysed', 'the third within 60 s is over the cap');
  for (const id of ['a', 'b', 'd']) assert.notEqual(cause[id], 'not_analysed', `${id} was analysed`);
});
