import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '@/db/client';
import { sqlState } from '@/db/errors';
import { databaseBefore } from './helpers/db-before';

// Migration 0022 made the handlers' objects per source: rows written before it take the source of the
// event that wrote them, and, when that event is pruned already, the source most kept SkyLight events
// came from.

test('upgrading keeps every contact, message, booking and version, each under the source that wrote it or, its event pruned, the busiest SkyLight source', async () => {
  const old = await databaseBefore('0022');
  const d = old.db;
  try {
    const [ev] = rowsOf<{ id: string }>(
      await d.execute(sql`
        insert into events (source, provider, delivery_id, event_type, payload, status)
        values ('second-account', 'skylight', 'd-upgrade-1', 'contact.created', '{}', 'processed')
        returning id::text as id`),
    );
    const written = Number(ev!.id);
    // Most of what is kept came from another SkyLight account: rows of pruned events go with it.
    await d.execute(sql`
      insert into events (source, provider, delivery_id, event_type, payload, status)
      select 'main-account', 'skylight', 'd-main-' || g, 'contact.updated', '{}', 'processed'
        from generate_series(1, 3) g`);
    await d.execute(sql`
      insert into events (source, provider, delivery_id, event_type, payload, status)
      select 'sly', 'sly', 'd-sly-' || g, 'order.created', '{}', 'processed' from generate_series(1, 9) g`);
    const pruned = written + 1_000_000;
    await d.execute(sql`insert into contacts (id, name, data, source_event_id)
      values (42, 'from the second account', '{}', ${written}), (43, 'event pruned', '{}', ${pruned})`);
    await d.execute(sql`insert into messages (id, data, source_event_id) values (7, '{}', ${written})`);
    await d.execute(sql`insert into bookings (id, data, source_event_id) values (8, '{}', ${pruned})`);
    await d.execute(sql`insert into entity_versions (entity, id, version_at, deleted, event_id)
      values ('contact', 42, now(), false, ${written}), ('contact', 43, now(), true, ${pruned})`);
    await old.upgrade();

    const sources = async (table: string) =>
      rowsOf<{ id: string; source: string }>(
        await d.execute(sql.raw(`select id::text as id, source from ${table} order by id`)),
      ).map((r) => [r.id, r.source]);
    assert.deepEqual(await sources('contacts'), [
      ['42', 'second-account'],
      ['43', 'main-account'],
    ]);
    assert.deepEqual(await sources('messages'), [['7', 'second-account']]);
    assert.deepEqual(await sources('bookings'), [['8', 'main-account']]);
    assert.deepEqual(await sources('entity_versions'), [
      ['42', 'second-account'],
      ['43', 'main-account'],
    ]);
    // The same number under another source is another contact now.
    await d.execute(sql`insert into contacts (source, id, name, data, source_event_id)
      values ('skylightchat', 42, 'from the first account', '{}', ${written})`);
    await assert.rejects(
      d.execute(
        sql`insert into contacts (source, id, data, source_event_id) values ('skylightchat', 42, '{}', 1)`,
      ),
      (err) => sqlState(err) === '23505',
      'one contact 42 per source',
    );
    await assert.rejects(
      d.execute(sql`insert into contacts (id, data, source_event_id) values (44, '{}', 1)`),
      (err) => sqlState(err) === '23502',
      'the source is required',
    );
  } finally {
    await old.close();
  }
});
