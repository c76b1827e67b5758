// Issue #19's retention goal: on a receipts table of 10 M rows (Postgres), pruning the day past
// retention must free its disk and move the receiver's p99 by at most 20 % while it runs.
//   npx tsx bench/retention.ts [--receipts 10000000] [--days 31] [--rate 400] [--baseline-seconds 30]
// Fills a scratch database with the dashboard bench's receipts (bench/dashboard-data.ts: no bodies,
// empty headers) spread over `days`, gives the oldest day what the app writes with a receipt (body,
// search copy, ack time) so its prune pays the cascade, starts `npm start` on it, sends signed deliveries at `rate`
// (open model) for a baseline window, then runs the prune job's own code (pruneOld, RETENTION_DAYS
// = days - 1, so about one day is past retention) from this process until nothing old is left while
// the same load goes on. The app's own prune job is kept idle (RETENTION_DAYS=3650) so only the
// measured run prunes. Writes bench/results/retention.json, which `npm run bench` reports.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { openDb, rowsOf } from '@/db/client';
import { pruneOld } from '@/db/queries/maintenance';
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
const REPO = path.resolve(import.meta.dirname, '..');
const RUN = randomBytes(3).toString('hex');
const SECRET = `bench-secret-${RUN}`;
const PORT = Number(process.env.BENCH_PORT_BASE ?? 4300) + 30;
const HOOK = `http://127.0.0.1:${PORT}/api/webhooks/skylightchat`;
const t0 = Date.now();
const say = (s: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${s}`);
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);

export type RetentionResult = {
  at: string;
  environment: { cpus: number; cpuModel: string; postgres: string };
  receipts: number;
  days: number;
  rate: number;
  fillS: number;
  /** Receipts the prune deleted, and how long it took (ms), with how many job runs (30 s budget each). */
  pruned: number;
  pruneMs: number;
  pruneRuns: number;
  finished: boolean;
  /** pg_total_relation_size('receipts'), MB: before the prune, right after it, and after a VACUUM. */
  sizeBeforeMb: number;
  sizeAfterMb: number;
  sizeAfterVacuumMb: number;
  /** Receipts the load added while the prune ran. */
  arrived: number;
  /** The pruned rows' share of each table's size (receipts, search copies, ack times): what freeing the day would free. */
  expectedFreeMb: number;
  baseline: LoadResult;
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
  const sizeOf = async () =>
    Number(
      rowsOf<{ b: number }>(await db.execute(sql`select pg_total_relation_size('receipts')::float8 as b`))[0]!
        .b,
    );
  await db.execute(sql`set statement_timeout = 0`);
  const fillStart = performance.now();
  await generateDashboardData(db, { n: N, days: DAYS, chunk: 500_000, say });
  // The generated receipts have no body. The day the prune removes gets what the app would have
  // written for it (a 1 KB JSON body, its search copy with both GIN indexes, its exact ack time), so
  // the prune pays the cascade it pays in production.
  const oldest = sql`received_at < now() - ${sql.raw(`interval '${DAYS - 1} days'`)} + interval '10 minutes'`;
  await db.execute(sql`
    update receipts
       set body = json_build_object('event', event_type, 'delivery_id', delivery_id, 'timestamp', received_at,
                                    'data', json_build_object('contact_id', 'c-' || (id % 5000), 'text', repeat(md5(id::text), 24)))::text
     where ${oldest}`);
  await db.execute(sql`
    insert into receipt_search (receipt_id, doc, payload)
    select id, body, body::jsonb from receipts where body is not null`);
  await db.execute(sql`
    insert into receipt_acks (receipt_id, ack_ms)
    select id, ack_ms from receipts where body is not null and outcome = 'accepted'`);
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
  say(`baseline: ${RATE}/s for ${BASELINE_MS / 1000} s`);
  const baseline = await openLoop(HOOK, RATE, BASELINE_MS, feed.take((RATE * BASELINE_MS) / 1000));
  say(`  p50 ${baseline.p50} p99 ${baseline.p99} ms, errors ${baseline.errors}`);

  const sizeBefore = await sizeOf();
  const count = async (where = sql`true`) =>
    Number(
      rowsOf<{ n: number }>(
        await db.execute(sql`select count(*)::float8 as n from receipts where ${where}`),
      )[0]!.n,
    );
  const lastId = Number(
    rowsOf<{ id: number }>(await db.execute(sql`select max(id)::float8 as id from receipts`))[0]!.id,
  );

  // What freeing the day would free: each table's size times the share of its rows that go.
  const pastRetention = sql`received_at < now() - ${sql.raw(`interval '${DAYS - 1} days'`)}`;
  const dayShare = Number(
    rowsOf<{ b: number }>(
      await db.execute(sql`
        with old as (select max(id) as hi, count(*)::float8 as n from receipts where ${pastRetention})
        select (pg_total_relation_size('receipts') * old.n / greatest(1, (select count(*) from receipts))
              + pg_total_relation_size('receipt_search')
                * (select count(*) from receipt_search where receipt_id <= old.hi)::float8
                / greatest(1, (select count(*) from receipt_search))
              + pg_total_relation_size('receipt_acks')
                * (select count(*) from receipt_acks where receipt_id <= old.hi)::float8
                / greatest(1, (select count(*) from receipt_acks)))::float8 as b
          from old`),
    )[0]!.b,
  );
  const old = await count(pastRetention);
  say(`pruning ${old.toLocaleString('en')} receipts past ${DAYS - 1} days while the load goes on`);

  // The prune runs as the job would, one budgeted run after another until nothing old is left, while
  // the load goes on in 5 s windows; the windows stop with the prune, so what is measured is its time.
  let pruned = 0;
  let pruneRuns = 0;
  let finished = false;
  const pruneStart = performance.now();
  const prune = (async () => {
    while (performance.now() - pruneStart < MAX_PRUNE_MS) {
      const n = await pruneOld(db, DAYS - 1);
      pruneRuns++;
      pruned += n;
      if (n === 0 || pruned >= old) {
        finished = true;
        return;
      }
    }
  })();
  let pruning = true;
  void prune.finally(() => {
    pruning = false;
  });
  const windows: LoadResult[] = [];
  const latencies: number[] = [];
  while (pruning)
    windows.push(await openLoop(HOOK, RATE, 5000, feed.take(RATE * 5), (_, l) => latencies.push(l)));
  await prune;
  const pruneMs = performance.now() - pruneStart;
  const during = merged(windows, latencies);
  say(
    `  pruned ${pruned.toLocaleString('en')} in ${(pruneMs / 1000).toFixed(1)} s (${pruneRuns} runs); p99 ${during.p99} ms`,
  );

  // The load's own receipts land in the same table meanwhile (and may reuse the space freed).
  const arrived = await count(sql`id > ${lastId}`);
  const sizeAfter = await sizeOf();
  await db.execute(sql`vacuum receipts`);
  const sizeAfterVacuum = await sizeOf();
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
    pruneMs: Math.round(pruneMs),
    pruneRuns,
    finished,
    arrived,
    sizeBeforeMb: mb(sizeBefore),
    sizeAfterMb: mb(sizeAfter),
    sizeAfterVacuumMb: mb(sizeAfterVacuum),
    expectedFreeMb: mb(expectedFree),
    baseline,
    during,
    p99Ratio,
    // Freed: at least 90 % of the pruned rows' share of the table handed back to the file system.
    met:
      finished && sizeBefore - sizeAfterVacuum >= 0.9 * expectedFree && p99Ratio !== null && p99Ratio <= 1.2,
  };
  say(
    `receipts ${res.sizeBeforeMb} MB before, ${res.sizeAfterMb} MB after, ${res.sizeAfterVacuumMb} MB after VACUUM (the day's share: ${res.expectedFreeMb} MB; ${arrived.toLocaleString('en')} receipts arrived meanwhile); p99 ${baseline.p99} -> ${during.p99} ms (${p99Ratio?.toFixed(2)}x): ${res.met ? 'met' : 'NOT met'}`,
  );
  writeFileSync(path.join(REPO, 'bench/results/retention.json'), `${JSON.stringify(res, null, 2)}\n`);
} finally {
  await stopAll();
  await h.close();
  await dropAllScratch();
}
