// Issue 17 figures on Postgres: content search over 1 M receipts (the plan must not scan every body)
// and the streamed export of 1 M rows in bounded memory.
//
//   npx tsx bench/search-export.ts [--rows 1000000]
//
// Creates a scratch database (bench_search_*), loads receipts with generate_series, runs the search
// indexer as the background job does (timed), prints EXPLAIN ANALYZE of the list query with each
// content filter and the median of 5 runs, then streams the CSV export of every row while sampling
// memory. Drops the database at the end.
import { desc, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { type DbHandle, openDb, rowsOf } from '@/db/client';
import {
  type DeliveryFilters,
  deliveriesWhere,
  iterateDeliveries,
  listDeliveries,
} from '@/db/queries/deliveries';
import { ensureDayPartitions } from '@/db/queries/partitions';
import { indexReceiptBodies } from '@/db/queries/search';
import { receipts } from '@/db/schema';
import { exportResponse } from '@/lib/api/stream-export';
import { createScratch, dropAllScratch } from './scratch-db';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const ROWS = arg('rows', 1_000_000);
/** `--export-only`: load and export, no indexing or searches (run it under a small --max-old-space-size). */
const EXPORT_ONLY = process.argv.includes('--export-only');
const mb = (b: number) => `${(b / 1048576).toFixed(0)} MB`;

async function main() {
  const name = `bench_search_${Date.now().toString(36)}`;
  const url = await createScratch(name);
  const h = await openDb({ url, max: 4 });
  const raw = postgres(url, { max: 1, onnotice: () => {} });
  try {
    // ~330-byte SkyLight envelopes; every 100,000th mentions needle@rare.test.
    const t = performance.now();
    await ensureDayPartitions(h.db, { from: new Date(Date.now() - ROWS * 50 - 86_400_000) });
    for (let lo = 1; lo <= ROWS; lo += 100_000) {
      const hi = Math.min(ROWS, lo + 99_999);
      await raw.unsafe(`
        insert into receipts (source, provider, delivery_id, event_type, outcome, http_status, ack_ms,
                              received_at, headers, body, body_bytes)
        select 'skylightchat', 'skylight', md5(i::text), 'contact.updated', 'accepted', 200, 1.5,
               now() - ((${ROWS} - i) * interval '50 ms'), '{}'::jsonb, b, length(b)
          from generate_series(${lo}, ${hi}) i,
               lateral (select json_build_object(
                 'event', 'contact.updated', 'delivery_id', md5(i::text), 'timestamp', now(),
                 'data', json_build_object('contact', json_build_object(
                   'id', i, 'name', 'Contact ' || i,
                   'email', case when i % 100000 = 0 then 'needle@rare.test' else 'user' || i || '@example.test' end,
                   'phone', '+1555' || lpad(i::text, 7, '0'), 'type', 'whatsapp', 'status', 'open',
                   'tags', json_build_array('t' || (i % 50)))))::text as b) x`);
    }
    console.log(`loaded ${ROWS} receipts in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    if (!EXPORT_ONLY) await searchBench(h, raw);
    await exportBench(h);
  } finally {
    await raw.end();
    await h.close();
    await dropAllScratch();
  }
}

async function searchBench(h: DbHandle, raw: postgres.Sql) {
  {
    let t = performance.now();
    // The backlog below the newest JOB_ROWS is filled in bulk (indexes built once, as a backfill
    // would); the newest JOB_ROWS go through the background job's own step, timed.
    const JOB_ROWS = Math.min(50_000, ROWS);
    t = performance.now();
    await raw.unsafe('drop index receipt_search_doc_trgm_idx; drop index receipt_search_payload_idx');
    await raw.unsafe(`insert into receipt_search (receipt_id, received_at, doc, payload)
      select id, received_at, body, try_jsonb(body) from receipts where id <= ${ROWS - JOB_ROWS}`);
    await raw.unsafe(
      'create index receipt_search_doc_trgm_idx on receipt_search using gin (doc gin_trgm_ops)',
    );
    await raw.unsafe(
      'create index receipt_search_payload_idx on receipt_search using gin (payload jsonb_path_ops)',
    );
    console.log(`bulk-indexed ${ROWS - JOB_ROWS} bodies in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    t = performance.now();
    let indexed = 0;
    for (let n = -1; n !== 0; indexed += n) n = await indexReceiptBodies(h.db, 500);
    const indexS = (performance.now() - t) / 1000;
    console.log(
      `background job step: indexed ${indexed} bodies in ${indexS.toFixed(1)} s (${Math.round(indexed / indexS)}/s)`,
    );
    await raw.unsafe('vacuum analyze receipts');
    await raw.unsafe('vacuum analyze receipt_search');

    const searches: Array<[string, DeliveryFilters]> = [
      ['text, 10 matches', { text: 'needle@rare.test' }],
      ['text, 1 match', { text: 'user424242@example' }],
      ['path = value, 1 match', { path: 'data.contact.email', value: 'user424242@example.test' }],
      ['path = number, 1 match', { path: 'data.contact.id', value: '424242' }],
      ['text, common (every row), first page', { text: 'whatsapp' }],
    ];
    for (const [label, f] of searches) {
      const q = h.db
        .select({ id: receipts.id })
        .from(receipts)
        .where(deliveriesWhere(f))
        .orderBy(desc(receipts.id))
        .limit(51);
      const plan = rowsOf<{ 'QUERY PLAN': string }>(
        await h.db.execute(sql`explain (analyze, costs off) ${q}`),
      );
      const text = plan.map((r) => r['QUERY PLAN']).join('\n');
      const times: number[] = [];
      let found = 0;
      for (let i = 0; i < 5; i++) {
        const s = performance.now();
        found = (await listDeliveries(h.db, f, { limit: 50 })).rows.length;
        times.push(performance.now() - s);
      }
      times.sort((a, b) => a - b);
      const seq = /Seq Scan on (receipts|receipt_search)/.test(text);
      console.log(
        `\n### ${label}: ${found} rows, median ${times[2]!.toFixed(1)} ms; seq scan of bodies: ${seq}`,
      );
      console.log(text);
    }
  }
}

/** Every row as CSV, memory sampled while the client reads. */
async function exportBench(h: DbHandle) {
  {
    globalThis.gc?.();
    const base = process.memoryUsage();
    let peakRss = base.rss;
    let peakHeap = base.heapUsed;
    const t = performance.now();
    const res = await exportResponse(
      iterateDeliveries(h.db, {}),
      ['id', 'received_at', 'delivery_id', 'event_type', 'outcome', 'ack_ms'],
      'csv',
      'deliveries',
    );
    const reader = res.body!.getReader();
    let bytes = 0;
    let lines = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.length;
      if (++lines % 5000 === 0) {
        const m = process.memoryUsage();
        peakRss = Math.max(peakRss, m.rss);
        peakHeap = Math.max(peakHeap, m.heapUsed);
      }
    }
    const s = (performance.now() - t) / 1000;
    console.log(
      `\nexport: ${lines - 1} rows, ${mb(bytes)} CSV in ${s.toFixed(1)} s; RSS ${mb(base.rss)} before, peak ${mb(peakRss)}; heap ${mb(base.heapUsed)} before, peak ${mb(peakHeap)}`,
    );
  }
}

main().catch(async (err) => {
  console.error(err);
  await dropAllScratch();
  process.exit(1);
});
