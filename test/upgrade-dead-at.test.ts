import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '@/db/client';
import { databaseBefore } from './helpers/db-before';

// Migration 0023: the dead letters are paged by when they died, so every one gets that time; a row
// dead-lettered without it (none should be) takes its last attempt's start, else its arrival.

test('upgrading gives every dead letter a death time: its last attempt, else its arrival', async () => {
  const old = await databaseBefore('0023');
  const d = old.db;
  try {
    const insert = async (deliveryId: string, status: string, deadAt: string | null) =>
      Number(
        rowsOf<{ id: string }>(
          await d.execute(sql`
            insert into events (source, provider, delivery_id, event_type, payload, status, dead_at, created_at)
            values ('sly', 'sly', ${deliveryId}, 'transfer.failed', '{}', ${status},
                    ${deadAt}::timestamptz, '2026-12-01 10:00:00+00')
            returning id::text as id`),
        )[0]!.id,
      );
    const tried = await insert('tried', 'dead', null);
    await insert('never-tried', 'dead', null);
    await insert('known', 'dead', '2026-12-02 08:00:00+00');
    await insert('pending', 'pending', null);
    await d.execute(sql`insert into attempts (event_id, attempt, worker, started_at, duration_ms, result, error)
      values (${tried}, 1, 'w', '2026-12-01 10:05:00+00', 5, 'transient', 'x'),
             (${tried}, 2, 'w', '2026-12-01 10:47:00+00', 5, 'permanent', 'x')`);
    await old.upgrade();

    const rows = rowsOf<{ delivery_id: string; dead_at: string | null }>(
      await d.execute(sql`select delivery_id, to_char(dead_at at time zone 'UTC', 'MM-DD HH24:MI') as dead_at
        from events order by id`),
    );
    assert.deepEqual(
      rows.map((r) => [r.delivery_id, r.dead_at]),
      [
        ['tried', '12-01 10:47'],
        ['never-tried', '12-01 10:00'],
        ['known', '12-02 08:00'],
        ['pending', null],
      ],
    );
  } finally {
    await old.close();
  }
});
