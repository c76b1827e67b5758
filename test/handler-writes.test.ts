import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '@/db/client';
import { handlerFor } from '@/lib/worker/handlers';
import { epochMicros } from '@/lib/worker/handlers/types';
import { openTestDb, type TestDb } from './helpers/db';
import { uniqueId } from './helpers/deliveries';

// What each versioned handler writes, read back from the tables: every column, a partial update that
// keeps the fields it does not carry, a stale change that writes nothing, and the version row, on the
// pool the worker uses (prepared statements on Postgres).

let db: TestDb;
before(async () => {
  db = await openTestDb();
});
after(async () => {
  await db.close();
});

let nextEventId = 1;
/** Runs one event's handler in its own transaction, as the worker does; returns the apply's result. */
async function apply(
  eventType: string,
  data: Record<string, unknown>,
  providerTs: Date | null = null,
  source = 'skylightchat',
) {
  const { handler } = handlerFor('skylight', eventType);
  const event = {
    id: nextEventId++,
    source,
    deliveryId: `d-${nextEventId}`,
    eventType,
    data,
    providerTs,
  };
  const value = handler.parse(data);
  return db.prepared.transaction((tx) => handler.apply(tx, value, event));
}

const at = (minutes: number) => new Date(Date.UTC(2026, 10, 30, 12, minutes)).toISOString();

async function one<T>(query: ReturnType<typeof sql>): Promise<T | undefined> {
  return rowsOf<T>(await db.db.execute(query))[0];
}

test('contact.created writes every column; a partial contact.updated keeps what it does not carry', async () => {
  const id = uniqueId();
  const created = {
    contact: { id, name: 'Ada', email: 'ada@example.com', phone: '+1', type: 'whatsapp', status: 'open' },
  };
  assert.equal(
    await apply('contact.created', { contact: { ...created.contact, tags: ['a', 'b'], updated_at: at(1) } }),
    'applied',
  );
  assert.equal(
    await apply('contact.updated', { contact: { id, status: 'closed', updated_at: at(2) } }),
    'applied',
  );
  const row = await one<Record<string, unknown>>(sql`
    select name, email, phone, channel, status, tags, data->>'status' as data_status, data->>'email' as data_email,
           source_event_id::int as source_event_id, updated_at is not null as stamped
      from contacts where id = ${id}`);
  assert.deepEqual(row, {
    name: 'Ada',
    email: 'ada@example.com',
    phone: '+1',
    channel: 'whatsapp',
    status: 'closed',
    tags: ['a', 'b'],
    data_status: 'closed',
    data_email: 'ada@example.com',
    source_event_id: nextEventId - 1,
    stamped: true,
  });
  const version = await one<{ at: string; deleted: boolean }>(
    sql`select version_at::text as at, deleted from entity_versions where entity = 'contact' and id = ${id}`,
  );
  assert.equal(new Date(version!.at).toISOString(), at(2));
  assert.equal(version!.deleted, false);
});

test('a stale contact.updated writes nothing; a deletion stays deleted; a change without a version applies', async () => {
  const id = uniqueId();
  assert.equal(await apply('contact.updated', { contact: { id, name: 'v3', updated_at: at(3) } }), 'applied');
  assert.equal(
    await apply('contact.updated', { contact: { id, name: 'v2', updated_at: at(2) } }),
    'skipped_stale',
  );
  assert.equal((await one<{ name: string }>(sql`select name from contacts where id = ${id}`))?.name, 'v3');

  assert.equal(await apply('contact.deleted', { contact: { id, deleted_at: at(4) } }), 'applied');
  assert.equal(await one(sql`select 1 from contacts where id = ${id}`), undefined);
  assert.equal(
    await apply('contact.updated', { contact: { id, name: 'late', updated_at: at(3) } }),
    'skipped_stale',
  );
  assert.equal(await one(sql`select 1 from contacts where id = ${id}`), undefined, 'not brought back');
  assert.equal(await apply('contact.deleted', { contact: { id, deleted_at: at(4) } }), 'skipped_stale');

  const other = uniqueId();
  assert.equal(await apply('contact.created', { contact: { id: other, name: 'no version' } }), 'applied');
  assert.equal(
    (await one<{ name: string }>(sql`select name from contacts where id = ${other}`))?.name,
    'no version',
  );
  assert.equal(
    await one(sql`select 1 from entity_versions where entity = 'contact' and id = ${other}`),
    undefined,
    'a change without a version leaves no version row',
  );
});

test('a deletion whose claim waited for the contact being created deletes it', {
  skip: !process.env.TEST_DATABASE_URL && 'two transactions at once need Postgres',
}, async () => {
  const id = uniqueId();
  // One worker creates the contact and has not committed; another takes its deletion meanwhile
  // (two lanes or two replicas). The deletion's claim waits for the creation's version row.
  let commit!: () => void;
  const held = new Promise<void>((r) => (commit = r));
  let written!: () => void;
  const createdUncommitted = new Promise<void>((r) => (written = r));
  const { handler } = handlerFor('skylight', 'contact.created');
  const data = { contact: { id, name: 'new', created_at: at(1) } };
  const event = {
    id: nextEventId++,
    source: 'skylightchat',
    deliveryId: `d-${nextEventId}`,
    eventType: 'contact.created',
    data,
    providerTs: null,
  };
  const creating = db.prepared.transaction(async (tx) => {
    const r = await handler.apply(tx, handler.parse(data), event);
    written();
    await held;
    return r;
  });
  await createdUncommitted;
  const deleting = apply('contact.deleted', { contact: { id, deleted_at: at(2) } });
  const waiting = async () =>
    (
      await one<{ n: number }>(sql`select count(*)::int as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock'`)
    )?.n ?? 0;
  for (const end = Date.now() + 5000; (await waiting()) === 0; ) {
    assert.ok(Date.now() < end, 'the deletion never waited for the creation');
    await new Promise((r) => setTimeout(r, 20));
  }
  commit();
  assert.equal(await creating, 'applied');
  assert.equal(await deleting, 'applied');
  assert.equal(await one(sql`select 1 from contacts where id = ${id}`), undefined, 'the new row is gone too');
  assert.deepEqual(
    await one(sql`select deleted from entity_versions where entity = 'contact' and id = ${id}`),
    { deleted: true },
  );
});

test('booking.created writes every column; a newer one replaces it, an older one is skipped', async () => {
  const id = uniqueId();
  const contactId = uniqueId();
  const booking = {
    id,
    contact_id: contactId,
    title: 'Intro call',
    starts_at: '2026-12-05T10:00:00+01:00',
    ends_at: '2026-12-05T10:30:00+01:00',
    status: 'confirmed',
    updated_at: at(5),
  };
  assert.equal(await apply('booking.created', { booking }), 'applied');
  const read = () =>
    one<Record<string, unknown>>(sql`
      select contact_id::int as contact_id, title, starts_at::text as starts_at, ends_at::text as ends_at, status,
             data->>'title' as data_title
        from bookings where id = ${id}`);
  const first = await read();
  assert.equal(first?.contact_id, contactId);
  assert.equal(first?.title, 'Intro call');
  assert.equal(new Date(first!.starts_at as string).toISOString(), '2026-12-05T09:00:00.000Z');
  assert.equal(new Date(first!.ends_at as string).toISOString(), '2026-12-05T09:30:00.000Z');
  assert.equal(first?.status, 'confirmed');
  assert.equal(first?.data_title, 'Intro call');

  assert.equal(
    await apply('booking.created', { booking: { ...booking, title: 'Older', updated_at: at(4) } }),
    'skipped_stale',
  );
  assert.equal((await read())?.title, 'Intro call');
  assert.equal(
    await apply('booking.created', {
      booking: { ...booking, title: 'Moved', starts_at: null, ends_at: null, updated_at: at(6) },
    }),
    'applied',
  );
  const moved = await read();
  assert.equal(moved?.title, 'Moved');
  assert.equal(moved?.starts_at, null);
  assert.equal(moved?.data_title, 'Moved');
});

test("two accounts (sources) of one provider keep their own contact 42: one's deletion or newer change is not the other's", async () => {
  const id = uniqueId();
  const second = 'second-account';
  assert.equal(
    await apply('contact.created', { contact: { id, name: 'Ada', created_at: at(1) } }),
    'applied',
  );
  assert.equal(
    await apply('contact.created', { contact: { id, name: 'Bob', created_at: at(1) } }, null, second),
    'applied',
  );
  assert.equal(await apply('contact.deleted', { contact: { id, deleted_at: at(5) } }), 'applied');
  // The other account's contact with the same number lives on, and changes at older times apply.
  assert.equal(
    await apply('contact.updated', { contact: { id, name: 'Bob2', updated_at: at(3) } }, null, second),
    'applied',
  );
  const rows = rowsOf<{ source: string; name: string }>(
    await db.db.execute(sql`select source, name from contacts where id = ${id} order by source`),
  );
  assert.deepEqual(
    rows.map((r) => [r.source, r.name]),
    [[second, 'Bob2']],
  );
  const versions = rowsOf<{ source: string; deleted: boolean }>(
    await db.db.execute(sql`select source, deleted from entity_versions where entity = 'contact' and id = ${id}
      order by source`),
  );
  assert.deepEqual(
    versions.map((v) => [v.source, v.deleted]),
    [
      [second, false],
      ['skylightchat', true],
    ],
  );
});

test('versions keep the provider microseconds: an older change in the same millisecond is stale', async () => {
  const id = uniqueId();
  const t = (us: string) => `2026-03-04T12:00:00.000${us}Z`;
  assert.equal(
    await apply('contact.updated', { contact: { id, name: 'newer', updated_at: t('900') } }),
    'applied',
  );
  assert.equal(
    await apply('contact.updated', { contact: { id, name: 'older', updated_at: t('100') } }),
    'skipped_stale',
  );
  const row = rowsOf<{ name: string; at: string }>(
    await db.db.execute(sql`select c.name, to_char(v.version_at at time zone 'UTC', 'SS.US') as at
      from contacts c join entity_versions v on v.source = c.source and v.entity = 'contact' and v.id = c.id
      where c.id = ${id}`),
  )[0];
  assert.deepEqual([row?.name, row?.at], ['newer', '00.000900']);
});

test('epochMicros reads the fraction the provider wrote, in any zone', () => {
  assert.equal(epochMicros('1970-01-01T00:00:01.000900Z'), 1_000_900n);
  assert.equal(epochMicros('1970-01-01T00:00:01Z'), 1_000_000n);
  assert.equal(epochMicros('1970-01-01T01:00:01.5+01:00'), 1_500_000n);
});

test('a time JavaScript rolls over and Postgres refuses (February 30, an offset of +16:00) is applied as rolled over, not dead-lettered', async () => {
  for (const updatedAt of [
    '2026-02-30T10:00:00Z',
    '2026-03-04T10:00:00.000100+16:00',
    '2026-03-04T24:00:00Z',
  ]) {
    const id = uniqueId();
    assert.equal(
      await apply('contact.updated', { contact: { id, name: 'x', updated_at: updatedAt } }),
      'applied',
      updatedAt,
    );
  }
});
