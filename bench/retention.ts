// Issue #19's retention goal: on a receipts table of 10 M rows (Postgres), pruning the day past
// retention must free its disk and move the receiver's p99 by at most 20 % while it runs. Receipts,
// their search copies and ack times are partitioned by day (migration 0018): the prune drops the
// expired day's tables.
//   npx tsx bench/retention.ts [--receipts 10000000] [--days 31] [--rate 400] [--baseline-seconds 30]
//                              [--reps 3] [--compare | --compare-drop]
// Fills a scratch database with the dashboard bench's receipts (bench/dashboard-data.ts: no bodies,
// empty headers) spread over `days`, gives the days to be pruned what the app writes with a receipt
// (body, search copy, ack time) so the size freed is the real one, starts `npm start` on it and sends
// signed deliveries at `rate` (open model). Then, `reps` times, one more UTC day: a baseline of 5 s
// windows, then the prune job's own code (pruneOld, RETENTION_DAYS = days - rep) from this process
// until nothing expired is left while the same load goes on. The app's own prune job is kept idle
// (RETENTION_DAYS=3650) so only the measured runs prune. `--compare` alternates the app's lock tries
// with one try of 1 s (what the sixth session shipped); `--compare-drop` alternates the app's paced
// drop with dropping each detached table at once (what the eighth session shipped). Writes
// bench/results/retention.json, which `npm run bench` reports.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { openDb, rowsOf } from '@/db/client';
import { pruneOld } from '@/db/queries/maintenance';
import {
  DAY_PARTITIONED,
  type DropStep,
  LOCK_TRIES,
  type LockTries,
  listPartitions,
} from '@/db/queries/partitions';
import { npmStartArgs } from '../test/helpers/npm-start';
import { longestDelay, sampleActivity, sampleAppLoop, summarise, watchOwnLoop } from './activity';
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
    reps: { type: 'string', default: '3' },
    compare: { type: 'boolean', default: false },
    'compare-drop': { type: 'boolean', default: false },
  },
});
const N = Number(values.receipts);
const DAYS = Number(values.days);
const RATE = Number(values.rate);
const BASELINE_MS = Number(values['baseline-seconds']) * 1000;
const REPS = Number(values.reps);
/** The sixth session's single wait for the detach's lock, for --compare. */
const ONE_TRY: LockTries = { timeoutsMs: [1000], pauseMs: 0 };
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

/** One pruned day under load. */
export type RetentionRep = {
  /**
   * 'app': the app's lock tries (LOCK_TRIES) and paced drop; 'one-try': one 1 s wait (--compare);
   * 'at-once': each detached table dropped in one statement (--compare-drop).
   */
  variant: 'app' | 'one-try' | 'at-once';
  retentionDays: number;
  /** Receipts the prune removed, the tables it dropped (with each one's lock tries, detach and drop times). */
  pruned: number;
  dropped: string[];
  steps: DropStep[];
  pruneMs: number;
  pruneRuns: number;
  finished: boolean;
  /** The expired day's tables (receipts, search copies, ack times): what freeing the day would free, MB. */
  expectedFreeMb: number;
  /** The tables that were gone after the prune, MB; and what the load's receipts added to the rest meanwhile. */
  freedMb: number;
  grownMb: number;
  /** receipts + receipt_search + receipt_acks (every partition), MB, before and after the prune. */
  sizeBeforeMb: number;
  sizeAfterMb: number;
  baseline: LoadResult;
  /** p99 of each 5 s window of the baseline. */
  baselineWindowP99s: number[];
  during: LoadResult;
  p99Ratio: number | null;
  /** Percentiles of the requests due while the prune ran. */
  pruneSpan: ReturnType<typeof stats>;
  /**
   * The worst request of each stall in the prune's windows (at most 5, each over twice the
   * baseline's p99), in the prune's span or before or after it: when it was due (ms after the prune
   * started; negative before it), its latency, and what pg_stat_activity showed while it was in
   * flight (bench/activity.ts).
   */
  slowest: {
    dueMs: number;
    latencyMs: number;
    /** The longest event-loop delay of the app (its /metrics every 250 ms) and of the load generator while it was in flight. */
    appLoopMaxMs: number;
    loadLoopMaxMs: number;
    activity: string[];
  }[];
  /** The app's event loop, read every 250 ms: reads late by over 100 ms and the longest, in the baseline and from the prune's start on. */
  appLoopLate: Record<'baseline' | 'during', { reads: number; over100ms: number; maxMs: number }>;
  /** The app's garbage collections during the prune's windows: seconds by kind (nodejs_gc_duration_seconds). */
  gcS: Record<string, number>;
  met: boolean;
};

export type RetentionResult = {
  at: string;
  environment: { cpus: number; cpuModel: string; postgres: string };
  receipts: number;
  days: number;
  rate: number;
  fillS: number;
  reps: RetentionRep[];
  /**
   * The app's background jobs over the whole run (skylight_job_seconds on /metrics): runs, total
   * seconds and runs over 0.5 s each; and the checkpoints Postgres made meanwhile. What else could
   * move a window's p99.
   */
  jobs: Record<string, { runs: number; totalS: number; over500ms: number }>;
  checkpoints: number;
  /** Over the reps of the app's variant: receipts pruned, MB expected and freed, the median p99 ratio. */
  pruned: number;
  expectedFreeMb: number;
  freedMb: number;
  p99Ratios: number[];
  medianP99Ratio: number | null;
  /** Every rep freed its day, and the median rep moved p99 by at most 20 %. */
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
  const count = async (where = sql`true`) =>
    Number(
      rowsOf<{ n: number }>(
        await db.execute(sql`select count(*)::float8 as n from receipts where ${where}`),
      )[0]!.n,
    );
  await db.execute(sql`set statement_timeout = 0`);
  const fillStart = performance.now();
  await generateDashboardData(db, { n: N, days: DAYS, chunk: 500_000, say });
  // Retention keeps whole UTC days: with RETENTION_DAYS = days - rep, the days that end before
  // now - (days - rep) are past it.
  const expiredBefore = (rep: number) =>
    new Date(Math.floor((Date.now() - (DAYS - rep) * DAY_MS) / DAY_MS) * DAY_MS);
  // The generated receipts have no body. The days the reps prune get what the app would have written
  // (a 1 KB JSON body, its search copy with both GIN indexes, its exact ack time), so the size freed
  // is the size a day takes in production.
  const toPrune = sql`received_at < ${expiredBefore(REPS).toISOString()}::timestamptz`;
  await db.execute(sql`
    update receipts
       set body = json_build_object('event', event_type, 'delivery_id', delivery_id, 'timestamp', received_at,
                                    'data', json_build_object('contact_id', 'c-' || (id % 5000), 'text', repeat(md5(id::text), 24)))::text
     where ${toPrune}`);
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
  /** The app's garbage collection so far, seconds by kind, from its /metrics. */
  const gcSeconds = async () => {
    const text = await (await fetch(`http://127.0.0.1:${PORT}/metrics`)).text();
    const out: Record<string, number> = {};
    for (const m of text.matchAll(/^nodejs_gc_duration_seconds_sum\{kind="([^"]+)"\} (\S+)$/gm))
      out[m[1]!] = Number(m[2]);
    return out;
  };
  const checkpointCount = async () =>
    Number(
      rowsOf<{ n: number }>(
        await db.execute(sql`select (checkpoints_timed + checkpoints_req)::int as n from pg_stat_bgwriter`),
      )[0]!.n,
    );
  const checkpointsBefore = await checkpointCount();
  const feed = new Feed(SECRET, 'accept', 7e9);
  // A fresh server on 10 M receipts needs more than a few seconds before its p99 settles (the first
  // run's first 5 s window read 4.6 s, with 392 timeouts, after a 5 s warm-up): 30 s, not measured.
  await openLoop(HOOK, RATE, 30_000, feed.take(RATE * 30));
  /** Consecutive 5 s windows of the load while `busy()` holds, at least `min` of them. */
  const windowsWhile = async (busy: () => boolean, min: number) => {
    const windows: LoadResult[] = [];
    const latencies: number[] = [];
    /** Each success: when it was due (performance.now() of this process) and its latency. */
    const timed: [number, number][] = [];
    while (windows.length < min || busy()) {
      const start = performance.now() + 5;
      windows.push(
        await openLoop(HOOK, RATE, WINDOW_MS, feed.take((RATE * WINDOW_MS) / 1000), (at, l) => {
          latencies.push(l);
          timed.push([start + at, l]);
        }),
      );
    }
    return { windows, all: merged(windows, latencies), timed };
  };

  const reps: RetentionRep[] = [];
  for (let rep = 1; rep <= REPS; rep++) {
    const variant: RetentionRep['variant'] =
      rep % 2 === 0 ? 'app' : values.compare ? 'one-try' : values['compare-drop'] ? 'at-once' : 'app';
    const retentionDays = DAYS - rep;
    // In 5 s windows, as during the prune: the same window length on both sides, and the spread of
    // the baseline windows' p99 shows how much one window's p99 moves by itself.
    say(`rep ${rep} (${variant}): baseline ${RATE}/s for ${BASELINE_MS / 1000} s`);
    // The app's event loop is read through the baseline too: how often it is late by itself.
    const appLoop = sampleAppLoop(`http://127.0.0.1:${PORT}/metrics`);
    const baseStart = performance.now();
    const base = await windowsWhile(() => false, BASELINE_MS / WINDOW_MS);
    const baseEnd = performance.now();
    const windowP99s = base.windows.map((w) => w.p99 ?? 0);
    say(
      `  p50 ${base.all.p50} p99 ${base.all.p99} ms (windows ${windowP99s.join(', ')}), errors ${base.all.errors}`,
    );
    const before = await sizes();
    const expired = (await listPartitions(db)).filter((p) => p.until <= expiredBefore(rep));
    const dayShare = Number(
      rowsOf<{ b: number }>(
        await db.execute(sql`
          select coalesce(sum(pg_total_relation_size(c.oid)), 0)::float8 as b from pg_class c
           where c.relname = any(${`{${expired.map((p) => p.name).join(',')}}`}::text[])`),
      )[0]!.b,
    );
    const oldest = sql`received_at < ${expiredBefore(rep).toISOString()}::timestamptz`;
    const old = await count(oldest);
    say(`  pruning ${old.toLocaleString('en')} receipts in ${expired.length} tables while the load goes on`);
    // The prune runs as the job would, run after run until nothing expired is left, starting a
    // second into the first 5 s window; the windows stop with the prune.
    const dropped: string[] = [];
    const steps: DropStep[] = [];
    let pruneRuns = 0;
    let pruneMs = 0;
    let started = 0;
    let pruning = true;
    const prune = (async () => {
      await new Promise((r) => setTimeout(r, 1000));
      started = performance.now();
      try {
        while (performance.now() - started < MAX_PRUNE_MS) {
          const r = await pruneOld(db, retentionDays, {
            lockTries: variant === 'one-try' ? ONE_TRY : LOCK_TRIES,
            paced: variant !== 'at-once',
          });
          pruneRuns++;
          dropped.push(...r.partitions);
          steps.push(...r.steps);
          if (r.partitions.length === 0 && r.deferred.length === 0 && r.receipts === 0) return;
        }
      } finally {
        pruneMs = performance.now() - started;
        pruning = false;
      }
    })();
    const gcBefore = await gcSeconds();
    // The bench's own connection may have been replaced (idle_timeout) since the last rep.
    const prunePid = Number(
      rowsOf<{ pid: number }>(await db.execute(sql`select pg_backend_pid() as pid`))[0]!.pid,
    );
    const sampler = sampleActivity(dbUrl);
    const stopOwnLoop = watchOwnLoop();
    const during = await windowsWhile(() => pruning, 1);
    await prune;
    const samples = await sampler.stop();
    const appDelays = await appLoop.stop();
    const ownDelays = stopOwnLoop();
    const gcAfter = await gcSeconds();
    const gcS = Object.fromEntries(
      Object.entries(gcAfter).map(([k, v]) => [k, Math.round((v - (gcBefore[k] ?? 0)) * 1000) / 1000]),
    );
    const pruned = old - (await count(oldest));
    const after = await sizes();
    // Freed: the tables that are gone. Grown: what the load's receipts added to the tables kept.
    const freed = [...before].reduce((a, [name, b]) => a + (after.has(name) ? 0 : b), 0);
    const grown = [...after].reduce((a, [name, b]) => a + b - (before.get(name) ?? 0), 0);
    const p99Ratio = base.all.p99 && during.all.p99 ? during.all.p99 / base.all.p99 : null;
    // The requests due while the prune ran (its own span, shorter than a window).
    const span = stats(
      during.timed.filter(([at]) => at >= started && at <= started + pruneMs).map(([, l]) => l),
    );
    // The worst request of each stall (requests due within 1 s of a worse one are the same stall).
    const worst: [number, number][] = [];
    for (const t of during.timed.filter(([, l]) => l > 2 * (base.all.p99 ?? 0)).sort((a, b) => b[1] - a[1]))
      if (worst.length < 5 && worst.every(([at]) => Math.abs(at - t[0]) > 1000)) worst.push(t);
    /** Of the app's 250 ms reads of its event loop: how many were late by over 100 ms, and the longest. */
    const loopLate = (from: number, to: number) => {
      const inSpan = appDelays.filter((d) => d.at >= from && d.at <= to);
      return {
        reads: inSpan.length,
        over100ms: inSpan.filter((d) => d.maxMs > 100).length,
        maxMs: Math.round(Math.max(0, ...inSpan.map((d) => d.maxMs))),
      };
    };
    const appLoopLate = {
      baseline: loopLate(baseStart, baseEnd),
      during: loopLate(started, performance.now()),
    };
    const slowest = worst.map(([at, l]) => ({
      dueMs: Math.round(at - started),
      latencyMs: Math.round(l),
      appLoopMaxMs: longestDelay(appDelays, at, at + l, 250),
      loadLoopMaxMs: longestDelay(ownDelays, at, at + l, 10),
      activity: summarise(samples, at, at + l, prunePid),
    }));
    const finished = pruned === old;
    const r: RetentionRep = {
      variant,
      retentionDays,
      pruned,
      dropped,
      steps: steps.map((s) => ({ ...s, detachMs: Math.round(s.detachMs), dropMs: Math.round(s.dropMs) })),
      pruneMs: Math.round(pruneMs),
      pruneRuns,
      finished,
      expectedFreeMb: mb(dayShare),
      freedMb: mb(freed),
      grownMb: mb(grown),
      sizeBeforeMb: mb(total(before)),
      sizeAfterMb: mb(total(after)),
      baseline: base.all,
      baselineWindowP99s: windowP99s,
      during: during.all,
      p99Ratio,
      pruneSpan: span,
      slowest,
      appLoopLate,
      gcS,
      // Freed: at least 90 % of the expired day's tables handed back to the file system, without a VACUUM.
      met: finished && freed >= 0.9 * dayShare && p99Ratio !== null && p99Ratio <= 1.2,
    };
    reps.push(r);
    say(
      `  pruned ${pruned.toLocaleString('en')} in ${(pruneMs / 1000).toFixed(2)} s (${pruneRuns} runs; ${r.steps.map((s) => `${s.name} ${s.tries} tr ${s.detachMs}+${s.dropMs} ms/${s.pieces}`).join(', ')}); ${r.freedMb} of ${r.expectedFreeMb} MB freed (the load added ${r.grownMb} MB meanwhile); p99 ${base.all.p99} -> ${during.all.p99} ms (${p99Ratio?.toFixed(2)}x) over ${during.windows.length} window(s), p99 ${span.p99} max ${span.max} ms while it ran: ${r.met ? 'met' : 'NOT met'}`,
    );
    say(
      `  app event loop late > 100 ms: baseline ${appLoopLate.baseline.over100ms} of ${appLoopLate.baseline.reads} reads (max ${appLoopLate.baseline.maxMs} ms), during ${appLoopLate.during.over100ms} of ${appLoopLate.during.reads} (max ${appLoopLate.during.maxMs} ms)`,
    );
    say(
      `  gc ${Object.entries(gcS)
        .map(([k, v]) => `${k} ${v} s`)
        .join(', ')}`,
    );
    for (const x of slowest) {
      say(
        `  ${x.latencyMs} ms due at ${x.dueMs >= 0 ? '+' : ''}${x.dueMs} ms (the prune took ${Math.round(pruneMs)} ms); event loop late by up to ${x.appLoopMaxMs} ms (app), ${x.loadLoopMaxMs} ms (load generator):`,
      );
      for (const a of x.activity.slice(0, 8)) say(`    ${a}`);
    }
  }

  const jobs: RetentionResult['jobs'] = {};
  for (const line of (await (await fetch(`http://127.0.0.1:${PORT}/metrics`)).text()).split('\n')) {
    const m = /^skylight_job_seconds_(sum|count|bucket)\{(?:le="([^"]+)",)?job="([^"]+)"\} (\S+)$/.exec(line);
    if (!m) continue;
    const j = (jobs[m[3]!] ??= { runs: 0, totalS: 0, over500ms: 0 });
    if (m[1] === 'sum') j.totalS = Math.round(Number(m[4]) * 100) / 100;
    else if (m[1] === 'count') j.runs = Number(m[4]);
    else if (m[2] === '0.5') j.over500ms = -Number(m[4]);
  }
  for (const j of Object.values(jobs)) j.over500ms += j.runs;
  const checkpoints = (await checkpointCount()) - checkpointsBefore;
  const app_ = reps.filter((r) => r.variant === 'app');
  const ratios = app_.map((r) => r.p99Ratio ?? Number.POSITIVE_INFINITY);
  // With an even count, the mean of the two middle ratios (the lower one alone would favour the goal).
  const sorted = [...ratios].sort((a, b) => a - b);
  const mid = (sorted.length - 1) / 2;
  const medianP99Ratio = sorted.length ? (sorted[Math.floor(mid)]! + sorted[Math.ceil(mid)]!) / 2 : null;
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
    reps,
    jobs,
    checkpoints,
    pruned: app_.reduce((a, r) => a + r.pruned, 0),
    expectedFreeMb: app_.reduce((a, r) => a + r.expectedFreeMb, 0),
    freedMb: app_.reduce((a, r) => a + r.freedMb, 0),
    p99Ratios: ratios,
    medianP99Ratio,
    met:
      app_.length > 0 &&
      app_.every((r) => r.finished && r.freedMb >= 0.9 * r.expectedFreeMb) &&
      medianP99Ratio !== null &&
      medianP99Ratio <= 1.2,
  };
  say(
    `jobs: ${Object.entries(jobs)
      .map(([k, j]) => `${k} ${j.runs} runs ${j.totalS} s (${j.over500ms} over 0.5 s)`)
      .join('; ')}; ${checkpoints} checkpoint(s)`,
  );
  say(
    `app's variant over ${app_.length} rep(s): ${res.freedMb} of ${res.expectedFreeMb} MB freed; p99 ratios ${ratios.map((x) => x.toFixed(2)).join(', ')} (median ${medianP99Ratio?.toFixed(2)}): ${res.met ? 'met' : 'NOT met'}`,
  );
  writeFileSync(path.join(REPO, 'bench/results/retention.json'), `${JSON.stringify(res, null, 2)}\n`);
} finally {
  await stopAll();
  await h.close();
  await dropAllScratch();
}
