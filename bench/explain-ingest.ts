// EXPLAIN (ANALYZE, BUFFERS) of the receiver's write statements at several batch sizes, on a scratch
// Postgres database: where a batch's time goes (issue #19's "JSON-parameter statement cost").
//   npx tsx bench/explain-ingest.ts [--sizes 1,5,20,64,256] [--warm 20000]
import { parseArgs } from 'node:util';
import { type SQL, sql } from 'drizzle-orm';
import { openDb, type Queryable } from '@/db/client';
import { ingestBatch, insertAckTimes } from '@/db/queries/ingest';
import { acceptedItem, Feed } from './payloads';
import { createScratch, dropAllScratch } from './scratch-db';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1,5,20,64,256' },
    warm: { type: 'string', default: '20000' },
    /** Room left in receipts' heap pages, so that the ack-time update can stay on the page (HOT). */
    fillfactor: { type: 'string' },
  },
});
const feed = new Feed('explain-secret');
const item = () => acceptedItem(feed);

/** A Queryable whose execute runs EXPLAIN ANALYZE of the statement instead and keeps the plan. */
function explaining(db: Queryable, plans: string[]): Queryable {
  return new Proxy(db, {
    get(target, key, receiver) {
      if (key !== 'execute') return Reflect.get(target, key, receiver);
      return async (q: SQL) => {
        const res = await target.execute(sql`explain (analyze, buffers, costs off) ${q}`);
        const rows = (Array.isArray(res) ? res : (res as { rows: unknown[] }).rows) as Array<
          Record<string, string>
        >;
        plans.push(rows.map((r) => Object.values(r)[0]).join('\n'));
        return [];
      };
    },
  });
}

const url = await createScratch(`bench_explain_${Math.random().toString(36).slice(2, 8)}`);
const h = await openDb({ url, max: 2 });
try {
  if (values.fillfactor) {
    await h.db.execute(sql.raw(`alter table receipts set (fillfactor = ${Number(values.fillfactor)})`));
  }
  // A table that is not empty: index descents and page splits as in a running install.
  for (let k = 0; k < Number(values.warm); k += 256)
    await ingestBatch(h.db, Array.from({ length: 256 }, item));
  await h.db.execute(sql`vacuum analyze`);
  for (const n of values.sizes.split(',').map(Number)) {
    const plans: string[] = [];
    const items = Array.from({ length: n }, item);
    const t0 = performance.now();
    await ingestBatch(explaining(h.db, plans), items).catch(() => {});
    const wall = performance.now() - t0;
    const ids = await h.db.execute(sql`select id, received_at from receipts order by id desc limit ${n}`);
    const rows = (Array.isArray(ids) ? ids : (ids as { rows: unknown[] }).rows) as Array<{
      id: string;
      received_at: string | Date;
    }>;
    await insertAckTimes(
      explaining(h.db, plans),
      rows.map((r) => ({ id: Number(r.id), receivedAt: new Date(r.received_at), ackMs: 1.5 })),
    );
    const times = plans.map((p) => /Execution Time: ([\d.]+)/.exec(p)?.[1] ?? '?');
    console.log(
      `\n=== batch ${n}: ingestBatch execution ${times[0]} ms (wall ${wall.toFixed(1)} ms), insertAckTimes ${times[1]} ms`,
    );
    if (n === 20) console.log(plans.join('\n---\n'));
    // Table statistics reach pg_stat_user_tables when a session has been idle for a second.
    await new Promise((r) => setTimeout(r, 1500));
    await h.db.execute(sql`select 1`);
    await new Promise((r) => setTimeout(r, 1500));
    const hot = await h.db.execute(
      sql`select n_tup_upd::int as upd, n_tup_hot_upd::int as hot from pg_stat_user_tables where relname = 'receipts'`,
    );
    console.log(`receipts updates so far (statistics lag ~1 s): ${JSON.stringify(hot)}`);
  }
} finally {
  await h.close();
  await dropAllScratch();
}
