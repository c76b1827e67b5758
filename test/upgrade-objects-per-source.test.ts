import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '@/db/client';
import { sqlState } from '@/db/errors';
import { databaseBefore } from './helpers/db-before';

// Migration 0022 made the handlers' objects per source: rows written before it take the source of the
// event that wrote them, and the one source there was when that event is pruned already.

test('upgrading keeps every contact, message, booking and version, each under the source that wrote it', async () => {
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
    const pruned = written + 1_000;
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
      ['43', 'skylightchat'],
    ]);
    assert.deepEqual(await sources('messages'), [['7', 'second-account']]);
    assert.deepEqual(await sources('bookings'), [['8', 'skylightchat']]);
    assert.deepEqual(await sources('entity_versions'), [
      ['42', 'second-account'],
      ['43', 'skylightchat'],
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
