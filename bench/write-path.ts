// The receiver's write path alone (issue #19): the group commit (lib/receiver/group-commit.ts) fed by
// N concurrent submitters in this process, no HTTP, no signature, on scratch Postgres databases with
// the receiver's pool settings (prepared statements, custom plans). What it measures is the database
// side of an accepted delivery, so a lever there can be judged without the noise of the whole stack.
// Variants run in turn (A B C A B C), each on freshly truncated tables.
//
// Where the exact ack time goes (the default):
//   insert  receipt_acks, one narrow row per receipt (the app today)
//   update  the receipt row rewritten (the app before; not HOT, a new entry in every receipts index)
//   none    no exact ack time at all (the floor)
// What some indexes cost (`--without a,b`): the app's schema against a second database with those
// indexes dropped (each by its name in db/schema.ts; both store the ack time in receipt_acks).
// Each run prints accepted/s, WAL bytes and Postgres CPU (every Postgres process) per delivery.
//   npx tsx bench/write-path.ts [--seconds 5] [--reps 3] [--concurrency 20] [--without idx,idx]
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { type DbHandle, openDb, rowsOf } from '@/db/client';
import { GroupCommit } from '@/lib/receiver/group-commit';
import { writeCostSince } from './cpu';
import { acceptedItem, Feed } from './payloads';
import { createScratch, dropAllScratch } from './scratch-db';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    reps: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '20' },
    without: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const feed = new Feed('write-path-secret');
const item = () => acceptedItem(feed);

type AckMode = 'insert' | 'update' | 'none';
type Variant = { name: string; h: DbHandle; ack: AckMode };

const handles: DbHandle[] = [];
async function scratch() {
  const h = await openDb({
    url: await createScratch(`bench_write_${Math.random().toString(36).slice(2, 8)}`),
    prepared: true,
    max: 6,
  });
  handles.push(h);
  return h;
}

async function variants(): Promise<Variant[]> {
  if (!values.without) {
    const h = await scratch();
    return (['insert', 'update', 'none'] as const).map((ack) => ({ name: ack, h, ack }));
  }
  const names = values.without.split(',').map((s) => s.trim());
  const app = await scratch();
  const cut = await scratch();
  for (const name of names) {
    const [found] = rowsOf<{ n: number }>(
      await cut.db.execute(sql`select count(*)::int as n from pg_indexes where indexname = ${name}`),
    );
    if (found!.n === 0) throw new Error(`--without: no index named ${name}`);
    await cut.db.execute(sql.raw(`drop index ${name}`));
  }
  return [
    { name: 'app', h: app, ack: 'insert' },
    { name: `without ${names.length}`, h: cut, ack: 'insert' },
  ];
}

async function measure({ h, ack }: Variant) {
  await h.db.execute(sql`truncate receipts, events, fingerprints, receipt_acks restart identity cascade`);
  await h.db.execute(sql`checkpoint`);
  const items = Array.from({ length: Math.round(seconds * 8000) }, item);
  const gc = new GroupCommit(async () => h.db);
  // The previous write-back, as it was: one UPDATE of the receipts every 250 ms.
  const pending: Array<{ id: number; ackMs: number }> = [];
  const writeBack = async () => {
    const b = pending.splice(0);
    if (b.length > 0) {
      await h.db.execute(sql`update receipts as r set ack_ms = v."ackMs"
        from json_to_recordset(${JSON.stringify(b)}::json) as v(id bigint, "ackMs" real) where r.id = v.id`);
    }
  };
  const timer = setInterval(() => void writeBack(), 250);
  const cost = await writeCostSince(h.db);
  let next = 0;
  let done = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end && next < items.length) {
        const item = items[next++]!;
        const r = await gc.submit(item);
        if (ack === 'insert') gc.recordAck(r.receiptId, item.receipt.receivedAt!, 1);
        else if (ack === 'update') pending.push({ id: r.receiptId, ackMs: 1 });
        done++;
      }
    }),
  );
  clearInterval(timer);
  await gc.drain();
  await writeBack();
  const { walBytes, pgMs } = await cost();
  return {
    perSecond: Math.round(done / seconds),
    walPerDelivery: Math.round(walBytes / done),
    pgMicros: Math.round((pgMs / done) * 1000),
  };
}

try {
  const vs = await variants();
  const results = new Map(vs.map((v) => [v.name, [] as Array<Awaited<ReturnType<typeof measure>>>]));
  for (let rep = 1; rep <= Number(values.reps); rep++) {
    for (const v of vs) {
      const r = await measure(v);
      results.get(v.name)!.push(r);
      console.log(
        `rep ${rep} ${v.name}: ${r.perSecond} accepted deliveries/s, ${r.walPerDelivery} WAL bytes and ${r.pgMicros} µs of Postgres CPU per delivery`,
      );
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const [base] = vs;
  const baseRate = median(results.get(base!.name)!.map((r) => r.perSecond));
  console.log(`\nmedian of ${values.reps}, ${concurrency} submitters:`);
  for (const v of vs) {
    const rs = results.get(v.name)!;
    const rate = median(rs.map((r) => r.perSecond));
    console.log(
      `  ${v.name}: ${rate}/s (${(rate / baseRate).toFixed(2)}× ${base!.name}), ${median(rs.map((r) => r.walPerDelivery))} WAL bytes and ${median(rs.map((r) => r.pgMicros))} µs of Postgres CPU per delivery`,
    );
  }
} finally {
  for (const h of handles) await h.close();
  await dropAllScratch();
}
