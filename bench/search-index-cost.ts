// What the search index job costs Postgres per body (issue #19: a quarter of Postgres's work per ack
// in the closed loop), under GIN settings that trade insert work against work left for later.
// Each variant: fresh tables with `base` accepted receipts (the bench's 1 KB bodies) already indexed
// and `rows` more not yet, then the job's step (indexReceiptBodies, the job's batch) until caught up,
// then every GIN pending list cleaned, so work a setting only defers is counted too. Prints Postgres
// CPU (every Postgres process) per body for the indexing and the cleanup, and the WAL written. Variants run in turn, A B C A B C.
//   npx tsx bench/search-index-cost.ts [--rows 20000] [--base 100000] [--reps 2] [--limits 64kB,4MB,32MB]
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { openDb } from '@/db/client';
import { ingestBatch } from '@/db/queries/ingest';
import { indexReceiptBodies } from '@/db/queries/search';
import { writeCostSince } from './cpu';
import { acceptedItem, Feed } from './payloads';
import { createScratch, dropAllScratch } from './scratch-db';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '20000' },
    // Bodies already in the index before the measured ones: a GIN insert costs more in a big index.
    base: { type: 'string', default: '100000' },
    reps: { type: 'string', default: '2' },
    limits: { type: 'string', default: '64kB,4MB,32MB' },
    batch: { type: 'string', default: '200' },
  },
});
const rows = Number(values.rows);
const base = Number(values.base);
const batch = Number(values.batch);
const limits = values.limits.split(',');
for (const l of limits)
  if (!/^\d+(kB|MB)?$/.test(l)) throw new Error(`--limits wants sizes like 64kB or 4MB, got ${l}`);

// One connection, so a session setting holds for every statement of the run.
const h = await openDb({ url: await createScratch('bench_search_cost'), prepared: true, max: 1 });

/** Every day table's two GIN indexes: the pending entries a setting left behind. */
const cleanPending = () =>
  h.db.execute(sql`
    select gin_clean_pending_list(c.oid) from pg_class c join pg_am a on a.oid = c.relam
     where a.amname = 'gin' and c.relkind = 'i' and c.relname like 'receipt_search%'`);

const feed = new Feed('search-cost-secret');
/** n more accepted receipts (with their events), 500 a statement as the receiver writes them. */
async function fill(n: number) {
  for (let i = 0; i < n; i += 500) {
    await ingestBatch(
      h.db,
      Array.from({ length: Math.min(500, n - i) }, () => acceptedItem(feed)),
    );
  }
}

try {
  console.log(
    `rows ${rows} over ${base} indexed, job batch ${batch}; Postgres CPU per body (µs), WAL per body (bytes)`,
  );
  console.log('limit     index µs  cleanup µs  total µs  WAL B  wall s');
  for (let rep = 0; rep < Number(values.reps); rep++) {
    for (const limit of limits) {
      await h.db.execute(sql`truncate receipts, receipt_search, receipt_acks, events, fingerprints cascade`);
      await fill(base);
      while ((await indexReceiptBodies(h.db, 2000)) === 2000) {}
      await cleanPending();
      await fill(rows);
      await h.db.execute(sql`checkpoint`);
      await h.db.execute(sql.raw(`set gin_pending_list_limit = '${limit}'`));
      const cost = await writeCostSince(h.db);
      const t0 = performance.now();
      let n = batch;
      while (n === batch) n = await indexReceiptBodies(h.db, batch);
      const indexed = await cost();
      await cleanPending();
      const wall = (performance.now() - t0) / 1000;
      const total = await cost();
      const per = (ms: number) => ((ms * 1000) / rows).toFixed(0).padStart(8);
      console.log(
        `${limit.padEnd(8)} ${per(indexed.pgMs)}  ${per(total.pgMs - indexed.pgMs)}    ${per(total.pgMs)}  ${String(Math.round(total.walBytes / rows)).padStart(5)}  ${wall.toFixed(1).padStart(6)}`,
      );
      await h.db.execute(sql`reset gin_pending_list_limit`);
    }
  }
} finally {
  await h.close();
  await dropAllScratch();
}
