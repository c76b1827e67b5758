import type { ClosedResult } from './closed';
import type { DashboardResult } from './dashboard-bench';
import type { LoadResult } from './load';
import type { PgliteOverviewResult } from './pglite-overview';
import type { PipelineResult } from './pipeline';
import type { RssTrace } from './procs';
import type { RetentionResult } from './retention';
import type { DrainResult } from './worker-bench';

export type TargetResult = {
  id: string;
  label: string;
  max: number | null;
  atMax: LoadResult | null;
  probe: LoadResult | null;
  steps: LoadResult[];
  fixed: LoadResult[];
};

export type Results = {
  mode: 'full' | 'quick';
  startedAt: string;
  durationS: number;
  environment: Record<string, string | number>;
  config: Record<string, number | string>;
  halfP1Rate: number | null;
  targets: TargetResult[];
  pglite300: LoadResult[];
  memory?: RssTrace[];
  /** A fresh server at R for a while: the memory goal's measurement. */
  sustained?: { rate: number; run: LoadResult; trace: RssTrace } | null;
  /** Closed-loop runs (autocannon), A B C A B C. */
  closed?: Array<ClosedResult & { id: string; label: string; rep: number }>;
  /** The default configuration (inline worker): highest rate acked and processed. */
  pipeline?: Array<PipelineResult & { id: string }>;
  worker: Array<{
    concurrency: number;
    ours: DrainResult;
    graphile: DrainResult;
    ratio: number;
    /** WORKER_BATCH_SIZE=16 (issue #19); absent in runs before it. */
    /** WORKER_BATCH_SIZE=1: one event per transaction, the worker before batching. */
    unbatched?: DrainResult;
  }>;
  dashboard: DashboardResult | null;
  pgliteOverview?: PgliteOverviewResult | null;
  /** The latest `bench/retention.ts` run (its own script: filling 10 M receipts takes minutes). */
  retention?: RetentionResult | null;
  goals: Goal[];
  table: string;
};

export type Goal = { goal: string; measured: string; met: boolean | null };

const fmt = (v: number | null | undefined, digits = 0) =>
  v === null || v === undefined || Number.isNaN(v)
    ? '–'
    : Number.isFinite(v)
      ? v.toFixed(digits)
      : 'overload';
const ratio = (a: number | null | undefined, b: number | null | undefined) =>
  a == null || b == null || b === 0 ? null : a / b;

export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

export const p99s = (runs: LoadResult[]) =>
  runs.map((r) => (r.errors > 0 || r.p99 === null ? Number.POSITIVE_INFINITY : r.p99));

function table(headers: string[], rows: string[][], alignLeft = 1): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < alignLeft ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function fixedCell(runs: LoadResult[]) {
  if (runs.length === 0) return '–';
  const errs = runs.reduce((s, r) => s + r.errors, 0);
  const ps = runs.map((r) => r.p99 ?? Number.NaN);
  const m = median(ps.filter((p) => !Number.isNaN(p)));
  const spread = runs.length > 1 ? ` (${fmt(Math.min(...ps), 1)}–${fmt(Math.max(...ps), 1)})` : '';
  return `${fmt(m, 1)}${spread}${errs > 0 ? ` ${errs} err` : ''}`;
}

/**
 * A clean fixed-rate run is evidence too: the reported max is the higher of the search's result and
 * the highest rate a fixed-rate repetition sustained cleanly (the search can end low after a noisy step).
 */
export function effectiveMax(
  t: TargetResult,
  limitMs: number,
  extra: LoadResult[] = [],
): { max: number | null; at: LoadResult | null } {
  let best = { max: t.max, at: t.atMax };
  for (const f of [...t.fixed, ...extra]) {
    const ok = f.errors === 0 && f.p99 !== null && f.p99 <= limitMs;
    if (ok && f.rate !== null && (best.max === null || f.rate > best.max)) best = { max: f.rate, at: f };
  }
  return best;
}

function memorySummary(m: RssTrace) {
  const mbs = (phase?: string) => m.samples.filter((x) => !phase || x[2] === phase).map((x) => x[1]);
  const peak = (phase?: string) => (mbs(phase).length ? Math.max(...mbs(phase)) : null);
  return {
    label: m.label,
    idle: mbs()[0]!,
    search: peak('max search'),
    fixed: peak('fixed rates'),
    end: mbs().at(-1)!,
    n: m.samples.length,
  };
}

function sustainedSummary(t: RssTrace) {
  const mbs = t.samples.map((x) => x[1]);
  const half = Math.ceil(mbs.length / 2);
  return {
    start: mbs[0]!,
    peak: Math.max(...mbs),
    firstHalf: median(mbs.slice(0, half)),
    secondHalf: median(mbs.slice(half)),
  };
}

export function render(input: Omit<Results, 'table' | 'goals'>): { text: string; goals: Goal[] } {
  const limit = Number(input.config.p99LimitMs);
  const r = {
    ...input,
    targets: input.targets.map((t) => {
      const e = effectiveMax(t, limit, t.id === 'ours-pglite' ? input.pglite300 : []);
      return { ...t, max: e.max, atMax: e.at };
    }),
  };
  const by = (id: string) => r.targets.find((t) => t.id === id);
  const p1 = by('p1');
  const p0 = by('p0');
  const n0 = by('n0');
  const ours = by('ours');
  const out: string[] = [];

  out.push('Environment');
  for (const [k, v] of Object.entries(r.environment)) out.push(`  ${k.padEnd(18)} ${v}`);
  out.push('');
  out.push(
    `Receiver: max = highest open-model rate (search step or fixed-rate run) with 0 errors and p99 ≤ ${r.config.p99LimitMs} ms,`,
  );
  out.push(`latency from the scheduled send time; "overload": errors (timeouts) in the median run;`);
  out.push(
    `p99@R = p99 at R = 50 % of P1's max = ${fmt(r.halfP1Rate)} req/s, median of ${r.config.reps} run(s) (min–max). Times in ms.`,
  );
  out.push(
    table(
      ['peer', 'max acks/s', 'p50@max', 'p99@max', '×P1', '×N0', '×P0', 'p99@R'],
      r.targets.map((t) => [
        t.label,
        fmt(t.max),
        fmt(t.atMax?.p50, 1),
        fmt(t.atMax?.p99, 1),
        fmt(ratio(t.max, p1?.max), 2),
        fmt(ratio(t.max, n0?.max), 2),
        fmt(ratio(t.max, p0?.max), 2),
        fixedCell(t.fixed),
      ]),
    ),
  );
  out.push('');
  const closedIds = [...new Set((r.closed ?? []).map((c) => c.id))];
  const conns = [...new Set((r.closed ?? []).map((c) => c.connections))];
  if (closedIds.length > 0) {
    out.push(
      `Closed loop (autocannon; each connection sends its next delivery when its last answer arrived; ${fmt(r.closed![0]!.durationS)} s per run,`,
    );
    out.push(
      `peers in turn A B C A B C; acks/s of each repetition, median ratio) beside the open model's max above`,
    );
    out.push(
      table(
        [
          'peer',
          'open max',
          ...conns.flatMap((c) => [`c=${c} acks/s`, `c=${c} p99`, `c=${c} ×P1`, `c=${c} ×P0`]),
        ],
        closedIds.map((id) => [
          r.closed!.find((c) => c.id === id)!.label,
          fmt(by(id)?.max),
          ...conns.flatMap((c) => {
            const runs = closedRuns(r, id, c);
            return [
              runs.map((x) => `${x.acksPerSecond}${x.errors ? `(${x.errors} err)` : ''}`).join(' / '),
              fmt(median(runs.map((x) => x.p99 ?? Number.NaN)), 1),
              fmt(closedRatio(r, id, 'p1', c), 2),
              fmt(closedRatio(r, id, 'p0', c), 2),
            ];
          }),
        ]),
      ),
    );
    out.push('');
  }
  const pg = r.pglite300;
  out.push(
    `PGlite at 300 req/s (${pg.length} run(s)): p50 ${fmt(median(pg.map((x) => x.p50 ?? Number.NaN)), 1)} ms, p99 ${fixedCell(pg)} ms, acks/s ${fmt(median(pg.map((x) => x.throughput)))}`,
  );
  out.push('');
  const mem = (r.memory ?? []).filter((m) => m.samples.length > 0).map(memorySummary);
  if (mem.length > 0) {
    out.push(
      'App memory, MB: RSS of the process group, sampled every second through the receiver runs above; peak while',
    );
    out.push(
      'searching the max (overload steps included) and while every peer ran at the fixed rates (sustained load)',
    );
    out.push(
      table(
        ['server', 'idle', 'peak max search', 'peak fixed rates', 'end', 'samples'],
        mem.map((m) => [m.label, fmt(m.idle), fmt(m.search), fmt(m.fixed), fmt(m.end), String(m.n)]),
      ),
    );
    out.push('');
  }
  const sus = r.sustained;
  if (sus && sus.trace.samples.length > 0) {
    const x = sustainedSummary(sus.trace);
    out.push(
      `Sustained load on a fresh server: ${sus.trace.label} at ${fmt(sus.rate)} req/s for ${fmt(sus.run.durationS)} s: ${sus.run.throughput} acks/s, p50 ${fmt(sus.run.p50, 1)} ms, p99 ${fmt(sus.run.p99, 1)} ms, ${sus.run.errors} errors;`,
    );
    out.push(
      `  RSS at start ${fmt(x.start)} MB, peak ${fmt(x.peak)} MB, median ${fmt(x.firstHalf)} MB in the first half and ${fmt(x.secondHalf)} MB in the second`,
    );
    out.push('');
  }
  for (const p of r.pipeline ?? []) {
    out.push(
      `Default configuration, ${p.label}: highest rate acked and processed with no growing backlog = ${fmt(p.max)}/s` +
        (p.probe
          ? ` (closed-loop probe, 20 connections: ${p.probe.acksPerSecond} acks/s, ${p.probe.processedPerSecond} processed/s)`
          : ''),
    );
    out.push(
      table(
        [
          'rate',
          's',
          'acks/s',
          'p99 ms',
          'errors',
          'backlog max',
          'backlog at end',
          'search behind at end',
          'caught up s',
          'clean',
        ],
        p.steps.map((st) => [
          String(st.rate),
          fmt(st.run.durationS),
          fmt(st.run.throughput),
          fmt(st.run.p99, 1),
          String(st.run.errors),
          fmt(Math.max(0, ...st.backlog.map((b) => b[1]))),
          String(st.backlogAtEnd),
          // Absent from runs before the search index was read, and for a server that has none (P1W).
          st.searchBacklogAtEnd == null ? '—' : String(st.searchBacklogAtEnd),
          st.catchUpS === null ? 'no' : fmt(st.catchUpS, 1),
          st.clean ? 'yes' : 'NO',
        ]),
      ),
    );
    out.push('');
  }
  if (r.worker.length > 0) {
    out.push('Worker drain (no-op handler, events committed as processed per second)');
    out.push(
      table(
        [
          'concurrency',
          'events',
          'ours ev/s',
          'commits/event',
          'ours batch 1 ev/s',
          'commits/event',
          'graphile-worker jobs/s',
          'ours / graphile',
          'batch 1 / graphile',
        ],
        r.worker.map((w) => [
          String(w.concurrency),
          String(w.ours.n),
          fmt(w.ours.perSecond),
          fmt(w.ours.commitsPerEvent, 2),
          fmt(w.unbatched?.perSecond),
          fmt(w.unbatched?.commitsPerEvent, 2),
          fmt(w.graphile.perSecond),
          fmt(w.ratio, 2),
          fmt(ratio(w.unbatched?.perSecond, w.graphile.perSecond), 2),
        ]),
      ),
    );
    out.push('');
  }
  const d = r.dashboard;
  if (d) {
    out.push(
      `Dashboard ack p50/p95/p99 charts, ${d.receipts.toLocaleString('en')} receipts over ${d.days} days (${d.tierRows.toLocaleString('en')} latency tier rows; median of ${r.config.dashReps})`,
    );
    out.push(
      table(
        ['chart', 'points', 'raw percentile_disc ms', 'ours ms', 'speed-up', 'max error %'],
        d.cases.map((c) => [
          c.name,
          String(c.points),
          fmt(c.rawMs, 1),
          fmt(c.oursMs, 1),
          `${fmt(c.speedup, 1)}×`,
          fmt(c.maxErrorPct, 2),
        ]),
      ),
    );
    out.push('');
  }

  const po = r.pgliteOverview;
  if (po) {
    out.push(
      `Overview API set on PGlite, ${po.receipts.toLocaleString('en')} receipts over 30 days (generated in ${fmt(po.generateS)} s; median of ${r.config.overviewReps})`,
    );
    const names = Object.keys(po.ranges[0]?.endpoints ?? {});
    out.push(
      table(
        ['range', 'whole set ms', ...names.map((n) => `${n} ms`)],
        po.ranges.map((x) => [x.range, fmt(x.ms, 1), ...names.map((n) => fmt(x.endpoints[n as never], 1))]),
      ),
    );
    out.push('');
  }

  const goals: Goal[] = [];
  const g = (goal: string, measured: string, met: boolean | null) => goals.push({ goal, measured, met });
  const oursP1 = ratio(ours?.max, p1?.max);
  const oursN0 = ratio(ours?.max, n0?.max);
  g('ours ≥ 1.0× P1 max acks/s', `${fmt(oursP1, 2)}×`, oursP1 === null ? null : oursP1 >= 1);
  g('ours ≥ 0.8× N0 max acks/s', `${fmt(oursN0, 2)}×`, oursN0 === null ? null : oursN0 >= 0.8);
  g('ours / P0 max acks/s (reported)', `${fmt(ratio(ours?.max, p0?.max), 2)}×`, null);
  const oursP99 = median(p99s(ours?.fixed ?? []));
  const p1P99 = median(p99s(p1?.fixed ?? []));
  g(
    'ours p99 ≤ P1 p99 at 50 % of P1 max',
    `${fmt(oursP99, 1)} vs ${fmt(p1P99, 1)} ms`,
    oursP99 === null || p1P99 === null ? null : oursP99 <= p1P99,
  );
  for (const [id, name] of [
    ['ours-dup', 'duplicates (25 %)'],
    ['ours-bad', 'bad signatures (50 %)'],
  ] as const) {
    const t = by(id);
    // A mix's max is comparable only when it was searched (the quick run measures mixes at R only).
    const maxR = t?.steps.length ? ratio(t.max, ours?.max) : null;
    const p99 = median(p99s(t?.fixed ?? []));
    const parts = [
      maxR === null ? null : `max ${fmt(maxR, 2)}× accept`,
      p99 === null ? null : `p99@R ${fmt(p99, 1)} vs ${fmt(oursP99, 1)} ms`,
    ].filter(Boolean);
    const comparable = p99 !== null && oursP99 !== null && Number.isFinite(oursP99);
    const met =
      t === undefined || (maxR === null && !comparable)
        ? null
        : (maxR === null || maxR >= 1) && (!comparable || p99! <= oursP99!);
    g(`${name} path at least as fast as accept`, parts.join(', '), met);
  }
  const pgP99 = median(p99s(pg));
  const pgErr = pg.reduce((s, x) => s + x.errors, 0);
  const pgMax = by('ours-pglite')?.max ?? null;
  g(
    'PGlite ≥ 300 acks/s with p99 ≤ 100 ms',
    `300/s: p99 ${fmt(pgP99, 1)} ms, ${pgErr} errors; max ${fmt(pgMax)}/s`,
    pg.length === 0 ? null : pgErr === 0 && pgP99 !== null && pgP99 <= 100,
  );
  const st = r.sustained ? sustainedSummary(r.sustained.trace) : null;
  g(
    'app RSS under sustained load ≤ 400 MB (flatness: the 10-minute soak, RELIABILITY.md)',
    st
      ? `peak ${fmt(st.peak)} MB at ${fmt(r.sustained!.rate)}/s for ${fmt(r.sustained!.run.durationS)} s`
      : '–',
    st ? st.peak <= 400 : null,
  );
  const w4 = r.worker[0];
  g(
    'worker ≥ 1000 events/s (+ ratio to graphile-worker)',
    w4
      ? `${fmt(w4.ours.perSecond)}/s at concurrency ${w4.concurrency}; ${fmt(w4.ratio, 2)}× graphile-worker`
      : '–',
    w4 ? w4.ours.perSecond >= 1000 : null,
  );
  for (const c of (d?.cases ?? []).filter((x) => x.goal)) {
    g(
      `dashboard ${c.name}: ≤ 50 ms, ≥ 20× raw, within 2 %`,
      `${fmt(c.oursMs, 1)} ms, ${fmt(c.speedup, 1)}×, error ${fmt(c.maxErrorPct, 2)} %`,
      c.oursMs <= 50 && c.speedup >= 20 && c.maxErrorPct <= 2,
    );
  }
  for (const x of po?.ranges ?? []) {
    g(
      `PGlite overview API set, ${po!.receipts.toLocaleString('en')} receipts, ${x.range}: ≤ 1 s`,
      `${fmt(x.ms, 1)} ms`,
      x.ms <= 1000,
    );
  }
  out.push('Goals (issue #5)');
  out.push(goalTable(goals));
  out.push('');
  const goals19 = issue19Goals(r, st);
  out.push('Goals (issue #19; ratios from the same run)');
  out.push(goalTable(goals19));
  return { text: out.join('\n'), goals: [...goals, ...goals19] };
}

const goalTable = (goals: Goal[]) =>
  table(
    ['goal', 'measured', 'met'],
    goals.map((x) => [x.goal, x.measured, x.met === null ? '–' : x.met ? 'yes' : 'NO']),
  );

const closedRuns = (r: Pick<Results, 'closed'>, id: string, connections: number) =>
  (r.closed ?? []).filter((c) => c.id === id && c.connections === connections);

/** Median over repetitions of a peer's acks/s over another's in the same repetition. */
function closedRatio(r: Pick<Results, 'closed'>, id: string, ref: string, connections: number) {
  const mine = closedRuns(r, id, connections);
  const theirs = closedRuns(r, ref, connections);
  const ratios = mine.flatMap((m) => {
    const t = theirs.find((x) => x.rep === m.rep);
    return t && t.acksPerSecond > 0 && m.errors === 0 ? [m.acksPerSecond / t.acksPerSecond] : [];
  });
  return median(ratios);
}

function issue19Goals(
  r: Omit<Results, 'table' | 'goals'>,
  st: ReturnType<typeof sustainedSummary> | null,
): Goal[] {
  const goals: Goal[] = [];
  const g = (goal: string, measured: string, met: boolean | null) => goals.push({ goal, measured, met });
  const by = (id: string) => r.targets.find((t) => t.id === id);
  const p1Max = by('p1')?.max ?? null;
  const oursMax = by('ours')?.max ?? null;
  const both = (a: number | null, b: number | null) =>
    a === null || b === null ? null : a >= 1.5 && b >= 1.0;
  for (const c of [...new Set((r.closed ?? []).map((x) => x.connections))]) {
    const a = closedRatio(r, 'ours', 'p1', c);
    const b = closedRatio(r, 'ours', 'p0', c);
    g(
      `closed loop c=${c}: ours ≥ 1.5× P1 and ≥ 1.0× P0 acks/s`,
      `${fmt(a, 2)}× P1, ${fmt(b, 2)}× P0 (median of ${closedRuns(r, 'ours', c).length})`,
      both(a, b),
    );
  }
  const oa = ratio(oursMax, p1Max);
  const ob = ratio(oursMax, by('p0')?.max);
  g('open model: ours max ≥ 1.5× P1 and ≥ 1.0× P0', `${fmt(oa, 2)}× P1, ${fmt(ob, 2)}× P0`, both(oa, ob));
  // p99 at R, repetition by repetition (runs of one repetition share its conditions).
  const oursFixed = by('ours')?.fixed ?? [];
  const p1Fixed = by('p1')?.fixed ?? [];
  const reps = Math.min(oursFixed.length, p1Fixed.length);
  let wins = 0;
  for (let i = 0; i < reps; i++) {
    if (p99s([oursFixed[i]!])[0]! <= p99s([p1Fixed[i]!])[0]!) wins++;
  }
  const need = Math.ceil(reps * 0.8);
  g(
    `p99 at 50 % of P1's max: ours ≤ P1 in ≥ 4 of 5 repetitions`,
    `${wins} of ${reps}${reps < 5 ? ` (quick: ≥ ${need} of ${reps})` : ''}`,
    reps === 0 ? null : wins >= need,
  );
  const p1w = r.pipeline?.find((p) => p.id === 'p1w');
  for (const p of r.pipeline ?? []) {
    if (p === p1w) continue;
    const x = ratio(p.max, p1Max);
    g(
      `default configuration, ${p.label.replace(/^ours npm start, /, '')}: acked and processed ≥ 1.0× P1's max ack rate`,
      p.max === null
        ? `no rate clean (best probe ${fmt(p.probe?.acksPerSecond)} acks/s, ${fmt(p.probe?.processedPerSecond)} processed/s); P1 ${fmt(p1Max)}/s`
        : `${fmt(p.max)}/s = ${fmt(x, 2)}× P1 (${fmt(p1Max)}/s)`,
      // No clean rate at all is a miss whatever P1 managed.
      p.max === null ? (p.steps.length > 0 ? false : null) : x === null ? null : x >= 1,
    );
    // The reference asked to do what ours does on Postgres (ack, store, queue, process): no goal, a yardstick.
    if (p1w && p.id === 'inline-pg')
      g(
        '  for comparison, P1W (P1 + graphile-worker, one commit per delivery), searched the same way',
        `${fmt(p1w.max)}/s = ${fmt(ratio(p1w.max, p1Max), 2)}× P1; ours (pg) = ${fmt(ratio(p.max, p1w.max), 2)}× P1W`,
        null,
      );
  }
  const w = r.worker[0];
  g(
    `worker drain, no-op handler, concurrency ${w?.concurrency ?? '–'}: ≥ ours' max ack rate and ≥ 0.8× graphile-worker`,
    w
      ? `${fmt(w.ours.perSecond)}/s = ${fmt(ratio(w.ours.perSecond, oursMax), 2)}× ours' max (${fmt(oursMax)}/s), ${fmt(w.ratio, 2)}× graphile-worker`
      : '–',
    w && oursMax !== null ? w.ours.perSecond >= oursMax && w.ratio >= 0.8 : null,
  );
  if (w?.unbatched) {
    const b = w.unbatched;
    g(
      '  for comparison, one event per transaction (WORKER_BATCH_SIZE=1)',
      `${fmt(b.perSecond)}/s = ${fmt(ratio(b.perSecond, oursMax), 2)}× ours' max, ${fmt(ratio(b.perSecond, w.graphile.perSecond), 2)}× graphile-worker`,
      null,
    );
  }
  const rt = r.retention;
  g(
    'retention on 10 M receipts: a day pruned frees its disk, receiver p99 moves ≤ 20 %',
    rt?.reps
      ? `bench/retention.ts ${rt.at.slice(0, 10)}: ${rt.reps.length} days pruned one after another at ${rt.rate}/s; with the app's lock tries ${rt.pruned.toLocaleString('en')} receipts, ${rt.freedMb} of ${rt.expectedFreeMb} MB freed without VACUUM; p99 moved ${rt.p99Ratios.map((x) => `${fmt(x, 2)}×`).join(', ')} (median ${fmt(rt.medianP99Ratio, 2)}×) against each day's 30 s before${
          rt.reps.some((x) => x.variant === 'one-try')
            ? `; one 1 s try (--compare): ${rt.reps
                .filter((x) => x.variant === 'one-try')
                .map((x) => `${fmt(x.p99Ratio, 2)}×`)
                .join(', ')}`
            : ''
        }`
      : 'not measured (npx tsx bench/retention.ts)',
    rt?.reps ? rt.met : null,
  );
  g(
    'memory ≤ 400 MB (Postgres), flat in the soak',
    st ? `peak ${fmt(st.peak)} MB; flatness: the soak (RELIABILITY.md)` : '–',
    st ? st.peak <= 400 : null,
  );
  return goals;
}

export function benchmarksMd(r: Results, levers = ''): string {
  return `# Benchmarks

Issue #5's harness: every peer on one machine, in one run, against the same local Postgres (a scratch
database per peer, created and dropped) with the same signed ~1 KB deliveries.

## Reproduce

\`\`\`sh
# Postgres reachable at postgres://postgres@127.0.0.1:5432/postgres (trust auth); override with BENCH_ADMIN_URL
npm run bench             # full run${r.mode === 'full' ? `, ~${Math.round(r.durationS / 60)} min` : ''}; writes bench/results/latest.json and this file
npm run bench -- --quick  # smoke run${r.mode === 'quick' ? `, ${Math.round(r.durationS / 60)} min on the busy machine of the run below (about 5 on a quiet one, an estimate)` : ', about 5 min'}; writes bench/results/latest-quick.json only
npx tsx bench/run.ts --render [--quick]  # this file again from latest.json (latest-quick.json)
npx tsx bench/worker-only.ts            # the worker drain alone: batch 1, batch 16, graphile-worker
npx tsx bench/explain-ingest.ts         # EXPLAIN (ANALYZE, BUFFERS) of the receiver's write by batch size
npx tsx bench/write-path.ts [--without idx,…]  # the group commit alone: accepted/s, WAL bytes and Postgres CPU per delivery; against a copy without those indexes
npx tsx bench/search-index-cost.ts [--rows N] [--base N] [--limits 64kB,4MB]  # the search index job alone: Postgres CPU and WAL per body by GIN pending-list size
npx tsx bench/delivery-ids.ts [--base N] [--seconds S]  # counting against random delivery ids (and with wal_compression = lz4) on a filled table: accepted/s, WAL bytes, Postgres CPU per delivery
npx tsx bench/cpu-split.ts [--env K=V]  # CPU per ack of server, Postgres and load generator, P0 P1 ours (and ours with K=V)
npx tsx bench/pipeline-only.ts [--only pg|pglite] [--rates 600,900] [--env K=V]  # the default configuration alone, beside P1W (P1 + graphile-worker) and P0 on PGlite; fixed steps print CPU per delivery
npx tsx bench/probe.ts --url <receiver url> --secret <secret> --rate 1900  # one server: a latency timeline
npx tsx bench/dashboard-only.ts [--pg N] [--pglite N]  # the dashboard parts alone
\`\`\`

The harness copies the app (tracked and untracked, non-ignored files) to \`/tmp/bench-next-<hash>\`, adds
a no-op route (\`app/api/bench-noop\`, N0) there and runs \`next build\` / \`next start\` in the copy; the
repository's own \`.next\` is never touched. Servers listen on 127.0.0.1:4300–4399 and are killed at the
end, also on error.

## Peers
- **N0**: a no-op POST route in the same Next build (reads the body, answers 200): the framework ceiling.
- **P0**: \`node:http\` + postgres.js, verify HMAC, one \`INSERT … ON CONFLICT DO NOTHING\` per request.
- **P1**: Express + \`pg\` Pool, the same logic (the seed's reference).
- **ours npm start (pg)**: the product as \`npm start\` runs it (\`scripts/start.ts\`: \`receive()\` behind
  node:http, everything else through Next), \`WORKER_INLINE=false\`, \`LOG_LEVEL=warn\`. The goals use this row.
- **ours via next start route (pg)**: the same \`receive()\` through Next's route handler (plain \`next start\`).
- **ours npm start (pglite)**: the product entry on embedded PGlite.
- **ours 25 % dup / 50 % bad sig**: the product entry on Postgres with duplicate-heavy and rejection-heavy mixes.
- **ours npm start, inline worker (pg / pglite)**: the default configuration (issue #19), \`WORKER_INLINE=true\`,
  measured by what it acks AND processes.
- **P1W**: P1 whose one statement also queues a graphile-worker job, graphile-worker at concurrency 4 in
  the same process (\`bench/peers/p1-worker.ts\`): the reference asked to process what it acks, searched
  like the default configuration. A yardstick beside the goal, not a goal.

Issue #19 added: a **closed loop** (autocannon: 20 and 64 connections, each sending its next delivery
when its last answer arrived; P1, P0, ours and ours on PGlite in turn, A B C D A B C D) reported beside
the open model's max; the **default configuration** (inline worker on, on Postgres and on PGlite): the
highest open-model rate at which every delivery is acked (0 errors, p99 ≤ the limit) and the worker
keeps up (the backlog, acked minus processed as the server's \`/metrics\` counts it, is at most 2 s of
arrivals at the end of the run and gone within the catch-up wait; from 2026-12-03 17:00 the same holds
for the search index, acked minus \`skylight_search_indexed_total\`); the **worker drain** at the default
concurrency; and the issue's goals with met / not met. Every delivery has a new \`delivery_id\` and a
new \`data\` (contact id, name, phone, email), so every request takes the accept path, not the
fingerprint-duplicate one (a profiling run of 1,500 closed-loop deliveries stored 1,500 \`accepted\`
receipts and no duplicate).

Load is an open model (constant arrival rate; latency from the scheduled send time, so coordinated
omission is not hidden). Each run opens 32 keep-alive connections before its clock starts, as wrk2
does and as a sender at a steady rate would (more open on demand). Max acks/s: a closed-loop probe, then open-model steps bisecting to the highest
rate with no errors and p99 ≤ ${r.config.p99LimitMs} ms; a step that fails on p99 alone is run once more and counts if
that run is clean (one stall on this shared machine can lift a 5-second step's p99). In each
fixed-rate repetition the peers at or over capacity at R (max < 1.2 R) run last, since they leave a
backlog behind that no wait fully clears; the others rotate. Every run waits for the previous server
to answer promptly and for the CPUs to go idle. Ours does more per request than P0/P1 (a receipt row with headers,
an inbox row, a fingerprint row, group commit) — that is the product, not a handicap chosen for the bench.

## Latest results (${r.mode}, ${r.startedAt}, ${Math.round(r.durationS)} s)

**Noise:** the machine has 2 cores shared by the load generator, the servers and Postgres (the
environment block gives the load average at the start and the end; well above 2 means other work
shared the machine too, and absolute figures then drop far below a quiet machine's). Absolute rates
also move between sittings on a quiet machine (P1's closed loop at 20 connections: about 1,000
acks/s in the full run of 2026-12-02, about 2,000 in that of 2026-12-03). Treat differences under ~15 % as noise; only the
ratios (same run, same conditions, peers in turn) mean something.

**Dashboard:** receipts spread evenly over 30 days (ack times log-normal, 5 % duplicates, 1 %
rejected) with the rollups the app maintains. "Ours" is the app's own code path (lib/metrics over the
rollup tiers); "raw" is percentile_disc per chart bucket over the raw receipts, for the same aligned
buckets. The error column compares the two per point (points with ≥ 50 receipts). The goal applies to
the issue's two cases; the Overview's own bucket sizes (5 min for 24 h, 3 h for 30 days) are shown
too. **PGlite overview:** the five calls the Overview page makes (summary, ack and lag series,
outcomes, retry rate), issued together as the browser does, on a PGlite database with 1 M receipts,
their events and attempts.

**Memory:** RSS of each app server's process group, sampled every second while the receiver runs
above were going on; the max search includes overload steps, where requests queue in the server and
V8 grows its heap, and it keeps that heap for a while afterwards. So the memory goal is measured on a
fresh \`npm start\` server after the other runs: a 3-second warm-up, then R (50 % of P1's max) for
60 seconds. Every \`npm start\` server here runs with package.json's node arguments
(\`--max-old-space-size=1024\`, which makes V8 collect at about 1.6× the live heap instead of 4×; README,
"Memory"). With PGlite the database runs inside the app's process (128 MB of shared buffers plus the
WebAssembly Postgres, and on a first start the memory initdb used), so that row is not comparable
with the Postgres rows, whose database is a separate process as it is for P0 and P1. Whether memory
stays flat over time is the 10-minute soak's job (RELIABILITY.md, \`test/faults/soak.test.ts\`).

\`\`\`text
${r.table}
\`\`\`

Raw figures (every probe, step and repetition): \`bench/results/latest${r.mode === 'quick' ? '-quick' : ''}.json\`.
${levers ? `\n${levers}` : ''}
${SEARCH_EXPORT_SECTION}`;
}

/** Issue 17's figures (bench/search-export.ts, run on its own), kept when the harness rewrites the file. */
const SEARCH_EXPORT_SECTION = `
## Search and export at 1 M receipts (issue 17)

\`\`\`sh
npx tsx bench/search-export.ts --rows 1000000        # load, index, EXPLAIN + time each search, export
node --max-old-space-size=48 --import tsx bench/search-export.ts --rows 1000000 --export-only
\`\`\`

Postgres 15, a scratch database, 1,000,000 receipts of ~330-byte SkyLight envelopes (loaded in
142 s). The search copy (\`receipt_search\`, README "Search, export, enqueue…") was filled in bulk for
the first 950,000 (448 s including both GIN builds) and by the background job's own step
(\`indexReceiptBodies\`, batches of 500) for the newest 50,000. Full output with every plan:
\`bench/results/search-export-1m.txt\`. Measured 2026-12-01 on the shared 2-core machine while other
work ran (load average about 20): read the times as upper bounds.

| Search (list query, first page of 50) | Rows | Median of 5 | Plan (EXPLAIN ANALYZE) |
| --- | --- | --- | --- |
| \`text=needle@rare.test\` | 10 | 14.6 ms | Bitmap Index Scan on \`receipt_search_doc_trgm_idx\`, then receipts by primary key (7.3 ms) |
| \`text=user424242@example\` | 1 | 150 ms | trigram bitmap scan; its trigrams are common to most rows, so more rows are rechecked (231 ms) |
| \`path=data.contact.email&value=user424242@example.test\` | 1 | 16.3 ms | Bitmap Index Scan on \`receipt_search_payload_idx\` (\`@>\`), 0.1 ms |
| \`path=data.contact.id&value=424242\` | 1 | 17.5 ms | BitmapOr of the string and the number on \`receipt_search_payload_idx\`, 0.15 ms |
| \`text=whatsapp\` (in every body) | 50 | 68.3 ms | Merge Join walking both primary keys newest first, stops at 51 rows (0.4 ms) |

No plan has a sequential scan of \`receipts\` or \`receipt_search\` (the script checks).

**Indexer throughput (the cost moved off the receiver):** the job's step indexed 50,000 bodies in
303 s, **165 bodies/s**, with 950,000 already in the index and the machine loaded; on a small table
it does about 1,400–1,900/s (\`--rows 20000\`: 1,390/s; \`--rows 5000\`: 1,909/s). Each body adds about
330 trigrams to a GIN index: the same cost that cut the receiver's throughput when it sat on
\`receipts.body\`. At sustained rates above the indexer's, the search falls behind (the answer's
\`meta.search.unindexed\` says by how much) while the receiver stays fast; a backlog is better rebuilt in
bulk (drop the two indexes, \`insert … select\`, create them again: the 950,000 above took 448 s).
Making the job keep up at high rates (a larger \`gin_pending_list_limit\`, indexing only \`data\`) is not
measured yet.

**Export (CSV of every receipt, streamed a page of 500 at a time as the client reads):**
With the heap capped at 48 MB (\`--max-old-space-size=48\`): **1,000,000 rows, 90 MB of CSV, heap peak 32 MB (13 MB before), RSS peak 121 MB (82 MB before)**, 163 s. Without a cap V8 collects lazily: heap peak 81 MB, RSS 179 MB, 76 s. Memory does not grow with the row count: one page of rows is held at a time and the next is read only when the client has taken the previous chunk.
`;
