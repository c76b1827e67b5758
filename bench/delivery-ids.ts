// What random delivery ids cost the write path against counting ones (issue #19, twentieth session).
// SkyLight's ids are random UUIDs; the bench sent counting ids until then, so every insert into a
// `delivery_id` b-tree (the events' unique key, the receipts' delivery index) hit the rightmost page.
// Each variant gets its own scratch database holding `--base` accepted deliveries with its kind of id,
// then, right after a checkpoint (as the checkpointer does every few minutes, after which each index
// page's first change is a full-page image in the WAL), the group commit writes `--seconds` of new
// ones from `--concurrency` submitters. Prints accepted/s, WAL bytes and Postgres CPU per delivery.
// A third variant has hashed ids and `wal_compression = lz4`, the setting that shrinks those images.
//   npx tsx bench/delivery-ids.ts [--base 300000] [--seconds 10] [--reps 2] [--concurrency 20]
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { type DbHandle, openDb } from '@/db/client';
import { type IngestItem, ingestBatch } from '@/db/queries/ingest';
import { GroupCommit } from '@/lib/receiver/group-commit';
import { writeCostSince } from './cpu';
import { acceptedItem, Feed } from './payloads';
import { createScratch, dropAllScratch } from './scratch-db';

const { values } = parseArgs({
  options: {
    base: { type: 'string', default: '300000' },
    seconds: { type: 'string', default: '10' },
    reps: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '20' },
  },
});
const base = Number(values.base);
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
for (const [k, v] of Object.entries({ base, seconds, reps: Number(values.reps), concurrency }))
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive whole number`);

/** `hashed lz4`: hashed ids on a database with `wal_compression = lz4` (full-page images compressed). */
type Kind = 'counting' | 'hashed' | 'hashed lz4';
/** The id the bench used before: `…-8000-<k in hex>`, k counting up. */
const counting = (k: number) => `00000000-0000-4000-8000-${k.toString(16).padStart(12, '0')}`;

/** Deliveries from `offset` on, with the kind of id asked for (the body keeps the feed's own id). */
function itemsOf(kind: Kind, offset: number, n: number): IngestItem[] {
  const feed = new Feed('delivery-ids-secret', 'accept', offset);
  return Array.from({ length: n }, (_, j) => {
    const it = acceptedItem(feed);
    if (kind === 'counting') {
      const id = counting(offset + j);
      it.receipt.deliveryId = id;
      it.event!.deliveryId = id;
      it.event!.fingerprint = `fp-${id}`;
    }
    return it;
  });
}

const handles: DbHandle[] = [];
const next = new Map<Kind, number>();

async function fill(kind: Kind): Promise<DbHandle> {
  const name = `bench_ids_${kind.replace(' ', '_')}_${Math.random().toString(36).slice(2, 8)}`;
  const url = await createScratch(name);
  if (kind === 'hashed lz4') {
    const admin = await openDb({ url, max: 1 });
    // A superuser setting: set on the database so that every connection opened after it has it.
    await admin.db.execute(sql.raw(`alter database ${name} set wal_compression = 'lz4'`));
    await admin.close();
  }
  const h = await openDb({ url, prepared: true, max: 6 });
  handles.push(h);
  for (let k = 0; k < base; k += 1000) await ingestBatch(h.db, itemsOf(kind, k, Math.min(1000, base - k)));
  await h.db.execute(sql`vacuum (analyze) receipts, events, fingerprints`);
  next.set(kind, base);
  return h;
}

async function measure(kind: Kind, h: DbHandle) {
  const items = itemsOf(kind, next.get(kind)!, Math.round(seconds * 6000));
  await h.db.execute(sql`checkpoint`);
  const cost = await writeCostSince(h.db);
  const gc = new GroupCommit(async () => h.db);
  let i = 0;
  let done = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end && i < items.length) {
        const item = items[i++]!;
        const r = await gc.submit(item);
        gc.recordAck(r.receiptId, item.receipt.receivedAt!, 1);
        done++;
      }
    }),
  );
  await gc.drain();
  const { walBytes, pgMs } = await cost();
  next.set(kind, next.get(kind)! + i);
  return {
    perSecond: Math.round(done / seconds),
    walPerDelivery: Math.round(walBytes / done),
    pgMicros: Math.round((pgMs / done) * 1000),
  };
}

try {
  const kinds: Kind[] = ['counting', 'hashed', 'hashed lz4'];
  const dbs = new Map<Kind, DbHandle>();
  for (const kind of kinds) {
    const t0 = performance.now();
    dbs.set(kind, await fill(kind));
    console.log(
      `${kind}: ${base.toLocaleString('en')} deliveries filled in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    );
  }
  for (let rep = 1; rep <= Number(values.reps); rep++) {
    for (const kind of kinds) {
      const r = await measure(kind, dbs.get(kind)!);
      console.log(
        `rep ${rep} ${kind}: ${r.perSecond} accepted/s, ${r.walPerDelivery} WAL bytes and ${r.pgMicros} µs of Postgres CPU per delivery`,
      );
    }
  }
} finally {
  for (const h of handles) await h.close();
  await dropAllScratch();
}
