// Issue #19's retention goal: on a receipts table of 10 M rows (Postgres), pruning the day past
// retention must free its disk and move the receiver's p99 by at most 20 % while it runs. Receipts,
// their search copies and ack times are partitioned by day (migration 0018): the prune drops the
// expired day's tables.
//   npx tsx bench/retention.ts [--receipts 10000000] [--days 31] [--rate 400] [--baseline-seconds 30]
// Fills a scratch database with the dashboard bench's receipts (bench/dashboard-data.ts: no bodies,
// empty headers) spread over `days`, gives the expired day what the app writes with a receipt (body,
// search copy, ack time) so the size freed is the real one, starts `npm start` on it, sends signed
// deliveries at `rate` (open model) for a baseline window, then runs the prune job's own code
// (pruneOld, RETENTION_DAYS = days - 1, so the oldest UTC day is past retention) from this process
// until nothing expired is left while the same load goes on. The app's own prune job is kept idle (RETENTION_DAYS=3650) so only the
// measured run prunes. Writes bench/results/retention.json, which `npm run bench` reports.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { openDb, rowsOf } from '@/db/client';
import { pruneOld } from '@/db/queries/maintenance';
import { DAY_PARTITIONED, listPartitions } from '@/db/queries/partitions';
import { npmStartArgs } from '../test/helpers/npm-start';
import { appEnv } from './app-env';
import { generateDashboardData } from './dashboard-data';
import { type LoadResult, openLoop, stats } from './load';
import { prepareNextCopy } from './next-copy';
import { Feed } from './payloads';
import { startProc, stopAll, waitHttp } from './procs';
import { createScratch, dropAllScratch, serverVersion } from './scratch-db';

const { values } = parseArgs({
  options: {
    receipts: { type: 'string', default: '10000000' },
    days: { type: 'string', default: '31' },
    rate: { type: 'string', default: '400' },
    'baseline-seconds': { type: 'string', default: '30' },
  },
});
const N = Number(values.receipts);
const DAYS = Number(values.days);
const RATE = Number(values.rate);
const BASELINE_MS = Number(values['baseline-seconds']) * 1000;
/** Longest the load may go on while pruning; a prune that needs longer is reported unfinished. */
const MAX_PRUNE_MS = 10 * 60_000;
const WINDOW_MS = 5000;
const REPO = path.resolve(import.meta.dirname, '..');
const RUN = randomBytes(3).toString('hex');
const SECRET = `bench-secret-${RUN}`;
const PORT = Number(process.env.BENCH_PORT_BASE ?? 4300) + 30;
const HOOK = `http://127.0.0.1:${PORT}/api/webhooks/skylightchat`;
const t0 = Date.now();
const say = (s: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${s}`);
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
const DAY_MS = 86_400_000;

export type RetentionResult = {
  at: string;
  environment: { cpus: number; cpuModel: string; postgres: string };
  receipts: number;
  days: number;
  rate: number;
  fillS: number;
  /** Receipts the prune removed, and how long it took (ms), with how many job runs (30 s budget each). */
  pruned: number;
  /** The tables it dropped. */
  dropped: string[];
  pruneMs: number;
  pruneRuns: number;
  finished: boolean;
  /** receipts + receipt_search + receipt_acks (every partition), MB: before the prune, right after it, and after a VACUUM. */
  sizeBeforeMb: number;
  sizeAfterMb: number;
  sizeAfterVacuumMb: number;
  /** Receipts the load added while the prune ran. */
  arrived: number;
  /** The expired day's tables (receipts, search copies, ack times): what freeing the day would free. */
  expectedFreeMb: number;
  /** The tables that were gone after the prune, MB; and what the load's receipts added to the rest meanwhile. */
  freedMb: number;
  grownMb: number;
  baseline: LoadResult;
  /** p99 of each 5 s window of the baseline. */
  baselineWindowP99s: number[];
  during: LoadResult;
  p99Ratio: number | null;
  met: boolean;
};

/** One result over several consecutive windows of the same rate: percentiles over all their latencies. */
function merged(windows: LoadResult[], latencies: number[]): LoadResult {
  const sum = (f: (w: LoadResult) => number) => windows.reduce((a, w) => a + f(w), 0);
  const errorKinds: Record<string, number> = {};
  for (const w of windows)
    for (const [k, v] of Object.entries(w.errorKinds)) errorKinds[k] = (errorKinds[k] ?? 0) + v;
  const durationS = sum((w) => w.durationS);
  return {
    rate: RATE,
    durationS,
    sent: sum((w) => w.sent),
    ok: sum((w) => w.ok),
    errors: sum((w) => w.errors),
    errorKinds,
    throughput: durationS ? sum((w) => w.ok) / durationS : 0,
    ...stats(latencies),
  };
}

const dbUrl = await createScratch(`bench_${RUN}_retention`);
const h = await openDb({ url: dbUrl, max: 1 });
try {
  const db = h.db;
  /** Size of each table of receipts, receipt_search and receipt_acks (every partition), bytes. */
  const sizes = async () =>
    new Map(
      rowsOf<{ name: string; b: number }>(
        await db.execute(sql`
          select t.relid::regclass::text as name, pg_total_relation_size(t.relid)::float8 as b
            from unnest(${sql.raw(`array[${DAY_PARTITIONED.map((t) => `'${t}'::regclass`).join(', ')}]`)}) as p(root),
                 lateral pg_partition_tree(p.root) as t`),
      ).map((r) => [r.name, Number(r.b)]),
    );
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  await db.execute(sql`set statement_timeout = 0`);
  const fillStart = performance.now();
  await generateDashboardData(db, { n: N, days: DAYS, chunk: 500_000, say });
  // Retention keeps whole UTC days: the days that end before now - (days - 1) are past it.
  const expiredBefore = new Date(Math.floor((Date.now() - (DAYS - 1) * DAY_MS) / DAY_MS) * DAY_MS);
  // The generated receipts have no body. The expired day gets what the app would have written for it
  // (a 1 KB JSON body, its search copy with both GIN indexes, its exact ack time), so the size freed
  // is the size a day takes in production.
  const oldest = sql`received_at < ${expiredBefore.toISOString()}::timestamptz`;
  await db.execute(sql`
    update receipts
       set body = json_build_object('event', event_type, 'delivery_id', delivery_id, 'timestamp', received_at,
                                    'data', json_build_object('contact_id', 'c-' || (id % 5000), 'text', repeat(md5(id::text), 24)))::text
     where ${oldest}`);
  await db.execute(sql`
    insert into receipt_search (receipt_id, received_at, doc, payload)
    select id, received_at, body, body::jsonb from receipts where body is not null`);
  await db.execute(sql`
    insert into receipt_acks (receipt_id, received_at, ack_ms)
    select id, received_at, ack_ms from receipts where body is not null and outcome = 'accepted'`);
  // The state autovacuum would have reached over those days: visibility map set, statistics fresh.
  await db.execute(sql`vacuum (analyze) receipts, receipt_search, receipt_acks`);
  await db.execute(sql`checkpoint`);
  const fillS = (performance.now() - fillStart) / 1000;
  say(`filled ${N.toLocaleString('en')} receipts over ${DAYS} days in ${fillS.toFixed(0)} s`);

  const nextDir = await prepareNextCopy(REPO, say);
  const app = startProc('ours-retention', process.execPath, npmStartArgs(nextDir), {
    cwd: nextDir,
    env: { ...appEnv(SECRET, dbUrl), PORT: String(PORT), WORKER_INLINE: 'true', RETENTION_DAYS: '3650' },
  });
  await waitHttp(app, PORT);
  const feed = new Feed(SECRET, 'accept', 7e9);
  await openLoop(HOOK, RATE, 5000, feed.take(RATE * 5));
  // In 5 s windows, as during the prune below: the same window length on both sides, and the spread
  // of the baseline windows' p99 shows how much one window's p99 moves by itself.
  say(`baseline: ${RATE}/s for ${BASELINE_MS / 1000} s`);
  const baseWindows: LoadResult[] = [];
  const baseLatencies: number[] = [];
  for (let i = 0; i < BASELINE_MS / WINDOW_MS; i++)
    baseWindows.push(
      await openLoop(HOOK, RATE, WINDOW_MS, feed.take((RATE * WINDOW_MS) / 1000), (_, l) =>
        baseLatencies.push(l),
      ),
    );
  const baseline = merged(baseWindows, baseLatencies);
  const windowP99s = baseWindows.map((w) => w.p99 ?? 0);
  say(
    `  p50 ${baseline.p50} p99 ${baseline.p99} ms (windows ${windowP99s.join(', ')}), errors ${baseline.errors}`,
  );

  const before = await sizes();
  const sizeBefore = total(before);
  const count = async (where = sql`true`) =>
    Number(
      rowsOf<{ n: number }>(
        await db.execute(sql`select count(*)::float8 as n from receipts where ${where}`),
      )[0]!.n,
    );
  const lastId = Number(
    rowsOf<{ id: number }>(await db.execute(sql`select max(id)::float8 as id from receipts`))[0]!.id,
  );

  // What freeing the day would free: the expired day's tables.
  const expired = (await listPartitions(db)).filter((p) => p.until <= expiredBefore);
  const dayShare = Number(
    rowsOf<{ b: number }>(
      await db.execute(sql`
        select coalesce(sum(pg_total_relation_size(c.oid)), 0)::float8 as b from pg_class c
         where c.relname = any(${`{${expired.map((p) => p.name).join(',')}}`}::text[])`),
    )[0]!.b,
  );
  const old = await count(oldest);
  say(`pruning ${old.toLocaleString('en')} receipts in ${expired.length} tables while the load goes on`);

  // The prune runs as the job would, run after run until nothing expired is left, starting a
  // second into the first 5 s window while the load goes on; the windows stop with the prune.
  const dropped: string[] = [];
  let pruneRuns = 0;
  let pruneStart = 0;
  const prune = (async () => {
    await new Promise((r) => setTimeout(r, 1000));
    pruneStart = performance.now();
    while (performance.now() - pruneStart < MAX_PRUNE_MS) {
      const r = await pruneOld(db, DAYS - 1);
      pruneRuns++;
      dropped.push(...r.partitions);
      if (r.partitions.length === 0 && r.receipts === 0) return;
    }
  })();
  let pruning = true;
  void prune.finally(() => {
    pruning = false;
  });
  const windows: LoadResult[] = [];
  const latencies: number[] = [];
  let pruneMs = 0;
  void prune.then(() => {
    pruneMs = performance.now() - pruneStart;
  });
  while (pruning)
    windows.push(
      await openLoop(HOOK, RATE, WINDOW_MS, feed.take((RATE * WINDOW_MS) / 1000), (_, l) =>
        latencies.push(l),
      ),
    );
  await prune;
  const pruned = old - (await count(oldest));
  const finished = pruned === old;
  const during = merged(windows, latencies);
  say(
    `  pruned ${pruned.toLocaleString('en')} in ${(pruneMs / 1000).toFixed(2)} s (${pruneRuns} runs); p99 over ${windows.length} window(s) ${during.p99} ms`,
  );

  // The load's own receipts land in the same table meanwhile (and may reuse the space freed).
  const arrived = await count(sql`id > ${lastId}`);
  const after = await sizes();
  const sizeAfter = total(after);
  // Freed: the tables that are gone. Grown: what the load's receipts added to the tables kept.
  const freed = [...before].reduce((a, [name, b]) => a + (after.has(name) ? 0 : b), 0);
  const grown = [...after].reduce((a, [name, b]) => a + b - (before.get(name) ?? 0), 0);
  await db.execute(sql`vacuum receipts, receipt_search, receipt_acks`);
  const sizeAfterVacuum = total(await sizes());
  const expectedFree = dayShare;
  const p99Ratio = baseline.p99 && during.p99 ? during.p99 / baseline.p99 : null;
  const res: RetentionResult = {
    at: new Date().toISOString(),
    environment: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '',
      postgres: await serverVersion(),
    },
    receipts: N,
    days: DAYS,
    rate: RATE,
    fillS: Math.round(fillS),
    pruned,
    dropped,
    pruneMs: Math.round(pruneMs),
    pruneRuns,
    finished,
    arrived,
    sizeBeforeMb: mb(sizeBefore),
    sizeAfterMb: mb(sizeAfter),
    sizeAfterVacuumMb: mb(sizeAfterVacuum),
    expectedFreeMb: mb(expectedFree),
    freedMb: mb(freed),
    grownMb: mb(grown),
    baseline,
    baselineWindowP99s: windowP99s,
    during,
    p99Ratio,
    // Freed: at least 90 % of the expired day's tables handed back to the file system, without a VACUUM.
    met: finished && freed >= 0.9 * expectedFree && p99Ratio !== null && p99Ratio <= 1.2,
  };
  say(
    `tables ${res.sizeBeforeMb} MB before, ${res.sizeAfterMb} MB after, ${res.sizeAfterVacuumMb} MB after VACUUM: ${res.freedMb} MB freed of the expired day's ${res.expectedFreeMb} MB, ${res.grownMb} MB added by the ${arrived.toLocaleString('en')} receipts that arrived meanwhile); p99 ${baseline.p99} -> ${during.p99} ms (${p99Ratio?.toFixed(2)}x): ${res.met ? 'met' : 'NOT met'}`,
  );
  writeFileSync(path.join(REPO, 'bench/results/retention.json'), `${JSON.stringify(res, null, 2)}\n`);
} finally {
  await stopAll();
  await h.close();
  await dropAllScratch();
}
