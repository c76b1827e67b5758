// The receiver's write path alone (issue #19): the group commit (lib/receiver/group-commit.ts) fed by
// N concurrent submitters in this process, no HTTP, no signature, on a scratch Postgres database. What
// it measures is the database side of an accepted delivery, so a lever there can be judged without
// the noise of the whole stack. Variants of where the exact ack time goes, A B C A B C, each run on
// freshly truncated tables:
//   insert  receipt_acks, one narrow row per receipt (the app today)
//   update  the receipt row rewritten (the app before; not HOT, a new entry in every receipts index)
//   none    no exact ack time at all (the floor)
//   npx tsx bench/write-path.ts [--seconds 5] [--reps 3] [--concurrency 20]
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { openDb, rowsOf } from '@/db/client';
import { GroupCommit } from '@/lib/receiver/group-commit';
import { acceptedItem, Feed } from './payloads';
import { createScratch, dropAllScratch } from './scratch-db';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    reps: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '20' },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const feed = new Feed('write-path-secret');
const item = () => acceptedItem(feed);

type Mode = 'insert' | 'update' | 'none';
const h = await openDb({ url: await createScratch(`bench_write_${Math.random().toString(36).slice(2, 8)}`) });
try {
  const results: Record<Mode, number[]> = { insert: [], update: [], none: [] };
  const walPer: Record<Mode, number[]> = { insert: [], update: [], none: [] };
  for (let rep = 1; rep <= Number(values.reps); rep++) {
    for (const mode of ['insert', 'update', 'none'] as const) {
      await h.db.execute(sql`truncate receipts, events, fingerprints, receipt_acks restart identity cascade`);
      await h.db.execute(sql`checkpoint`);
      const items = Array.from({ length: Math.round(seconds * 6000) }, item);
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
      const lsn = async () =>
        String(
          rowsOf<{ lsn: string }>(await h.db.execute(sql`select pg_current_wal_lsn()::text as lsn`))[0]!.lsn,
        );
      const lsn0 = await lsn();
      let next = 0;
      let done = 0;
      const end = performance.now() + seconds * 1000;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < end && next < items.length) {
            const item = items[next++]!;
            const r = await gc.submit(item);
            if (mode === 'insert') gc.recordAck(r.receiptId, item.receipt.receivedAt!, 1);
            else if (mode === 'update') pending.push({ id: r.receiptId, ackMs: 1 });
            done++;
          }
        }),
      );
      clearInterval(timer);
      await gc.drain();
      await writeBack();
      const [wal] = rowsOf<{ bytes: number }>(
        await h.db.execute(
          sql`select pg_wal_lsn_diff(${await lsn()}::pg_lsn, ${lsn0}::pg_lsn)::float8 as bytes`,
        ),
      );
      results[mode].push(Math.round(done / seconds));
      walPer[mode].push(Math.round(Number(wal!.bytes) / done));
      console.log(
        `rep ${rep} ${mode}: ${results[mode].at(-1)} accepted deliveries/s, ${walPer[mode].at(-1)} WAL bytes per delivery`,
      );
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `\nmedian of ${values.reps}, ${concurrency} submitters: insert ${median(results.insert)}/s, update ${median(results.update)}/s, none ${median(results.none)}/s; insert/update ${(median(results.insert) / median(results.update)).toFixed(2)}; WAL bytes per delivery: insert ${median(walPer.insert)}, update ${median(walPer.update)}, none ${median(walPer.none)}`,
  );
} finally {
  await h.close();
  await dropAllScratch();
}
