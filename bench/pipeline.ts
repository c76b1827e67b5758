// The default configuration end to end (issue #19): `npm start` with the inline worker on, measured
// by what it acks AND processes. A rate counts only when every delivery was acked (no errors, p99 ≤
// the limit) and the worker kept up: at the end of the run the backlog (acked, not yet processed) is
// at most two seconds of arrivals, and it is gone within a few seconds after the load stops. The same
// holds for the content search index (a background job copies each body): a rate at which search falls
// further behind every second is not one the app keeps up with.
import { autocannonClosed } from './closed';
import { type LoadResult, openLoop } from './load';
import type { Feed } from './payloads';

export type PipelineStep = {
  rate: number;
  run: LoadResult;
  /** [seconds into the run, acked − processed] every second. */
  backlog: Array<[number, number]>;
  backlogAtEnd: number;
  /** Acked deliveries whose body was not in the search index yet; null: the server has no search index (P1W). */
  searchBacklogAtEnd: number | null;
  /** Seconds after the load stopped until every acked delivery was processed (and indexed); null: not within the wait. */
  catchUpS: number | null;
  clean: boolean;
};

export type PipelineResult = {
  label: string;
  probe: { acksPerSecond: number; processedPerSecond: number } | null;
  steps: PipelineStep[];
  /** The highest clean rate. */
  max: number | null;
};

/** A step is clean when its p99 is at most this (the receiver's searches use the same limit). */
export const CLEAN_P99_MS = 200;

/** The full run's pipeline search (bench/run.ts), which bench/pipeline-only.ts repeats by default. */
export const FULL_RUN_PIPELINE = {
  probeMs: 10_000,
  stepMs: 60_000,
  steps: 4,
  p99LimitMs: CLEAN_P99_MS,
  catchUpMs: 10_000,
};

/** Deliveries each step sends first to open its keep-alive connections (acked and processed too). */
const CONNECT = 32;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Counts = { processed: number; indexed: number | null };

/**
 * From the server's Prometheus endpoint, the only counts that are the same for PGlite (inside the app's
 * process) and Postgres: events the worker completed (success or skipped_stale), and bodies the search
 * indexer copied (null when the server has none).
 */
export async function pipelineCounts(origin: string): Promise<Counts> {
  const text = await fetch(`${origin}/metrics`, { signal: AbortSignal.timeout(5000) }).then((r) => r.text());
  let processed = 0;
  let indexed: number | null = null;
  for (const line of text.split('\n')) {
    const value = () => Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith('skylight_search_indexed_total ')) indexed = value();
    if (!line.startsWith('skylight_worker_attempts_total{')) continue;
    if (!/result="(success|skipped_stale)"/.test(line)) continue;
    processed += value();
  }
  return { processed, indexed };
}

/** Acked deliveries not yet processed, and not yet indexed, since `base` was read. */
function behind(now: Counts, base: Counts, acked: number) {
  return {
    processing: acked - (now.processed - base.processed),
    search: now.indexed === null || base.indexed === null ? null : acked - (now.indexed - base.indexed),
  };
}

async function waitCaughtUp(origin: string, base: Counts, acked: number, maxMs: number) {
  const t0 = performance.now();
  while (performance.now() - t0 < maxMs) {
    const b = behind(await pipelineCounts(origin), base, acked);
    if (b.processing <= 0 && (b.search ?? 0) <= 0) return (performance.now() - t0) / 1000;
    await sleep(250);
  }
  return null;
}

/** Waits (at most 60 s) until neither the worker's completed count nor the indexed count moves for a second. */
export async function quiet(origin: string) {
  const until = Date.now() + 60_000;
  let last = '';
  while (Date.now() < until) {
    const n = JSON.stringify(await pipelineCounts(origin));
    if (n === last) return;
    last = n;
    await sleep(1000);
  }
}

export async function pipelineStep(
  url: string,
  feed: Feed,
  rate: number,
  durationMs: number,
  p99LimitMs: number,
  catchUpMs: number,
): Promise<PipelineStep> {
  const origin = new URL(url).origin;
  const base = await pipelineCounts(origin);
  // The connection-opening deliveries are acked before the clock starts; the worker processes them too.
  let acked = CONNECT;
  const backlog: Array<[number, number]> = [];
  const t0 = performance.now();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await sleep(1000);
      if (!sampling) break;
      const now = (await pipelineCounts(origin).catch(() => null)) ?? base;
      backlog.push([Math.round((performance.now() - t0) / 1000), behind(now, base, acked).processing]);
    }
  })();
  const shots = feed.take(Math.round((rate * durationMs) / 1000));
  const run = await openLoop(
    url,
    rate,
    durationMs,
    shots,
    () => {
      acked++;
    },
    feed.take(CONNECT),
  );
  sampling = false;
  await sampler;
  const atEnd = behind(await pipelineCounts(origin), base, acked);
  const catchUpS = await waitCaughtUp(origin, base, acked, catchUpMs);
  const allowed = Math.max(50, rate * 2);
  const clean =
    run.errors === 0 &&
    run.p99 !== null &&
    run.p99 <= p99LimitMs &&
    atEnd.processing <= allowed &&
    (atEnd.search ?? 0) <= allowed &&
    catchUpS !== null;
  return {
    rate,
    run,
    backlog,
    backlogAtEnd: atEnd.processing,
    searchBacklogAtEnd: atEnd.search,
    catchUpS,
    clean,
  };
}

/** One step as the logs print it. */
export function stepLine(label: string, st: PipelineStep): string {
  const worst = Math.max(0, ...st.backlog.map(([, n]) => n));
  const caught = st.catchUpS === null ? 'no' : `${st.catchUpS.toFixed(1)} s`;
  return `  ${label} ${st.rate}/s: ${st.run.throughput} acks/s p50 ${st.run.p50} p99 ${st.run.p99} ms, errors ${st.run.errors}, backlog max ${worst} at end ${st.backlogAtEnd}${st.searchBacklogAtEnd === null ? '' : ` (search ${st.searchBacklogAtEnd})`}, caught up ${caught} → ${st.clean ? 'clean' : 'NOT clean'}`;
}

/**
 * A closed-loop probe (20 connections) for the ack and processing rates, then open-model steps from
 * 0.9 × the slower of the two, up by a quarter after a clean step, bisecting after a failed one.
 */
export async function pipelineSearch(
  label: string,
  url: string,
  feed: Feed,
  cfg: { probeMs: number; stepMs: number; steps: number; p99LimitMs: number; catchUpMs: number },
  say: (s: string) => void,
  settle: () => Promise<void>,
): Promise<PipelineResult> {
  const origin = new URL(url).origin;
  const base = await pipelineCounts(origin);
  const t0 = performance.now();
  const c = await autocannonClosed(url, 20, cfg.probeMs, feed);
  const caught = await waitCaughtUp(origin, base, c.ok, 60_000);
  const processedIn = (performance.now() - t0) / 1000;
  const probe = {
    acksPerSecond: c.acksPerSecond,
    processedPerSecond: Math.round(((await pipelineCounts(origin)).processed - base.processed) / processedIn),
  };
  say(
    `  ${label} probe: ${probe.acksPerSecond} acks/s, ${probe.processedPerSecond} processed/s${caught === null ? ' (not caught up in 60 s)' : ''}`,
  );
  await settle();
  const round = (r: number) => Math.max(10, Math.round(r / 10) * 10);
  let rate = round(0.9 * Math.min(probe.acksPerSecond, probe.processedPerSecond));
  let lo: number | null = null;
  let hi: number | null = null;
  const steps: PipelineStep[] = [];
  for (let s = 0; s < cfg.steps; s++) {
    const st = await pipelineStep(url, feed, rate, cfg.stepMs, cfg.p99LimitMs, cfg.catchUpMs);
    steps.push(st);
    say(stepLine(label, st));
    if (st.clean) lo = Math.max(lo ?? 0, rate);
    else hi = hi === null ? rate : Math.min(hi, rate);
    // A step the worker did not keep up with leaves a backlog that the next step would inherit.
    if (st.catchUpS === null) await quiet(origin);
    await settle();
    if (lo !== null && hi !== null && (hi - lo) / hi < 0.05) break;
    rate = round(hi === null ? rate * 1.25 : lo === null ? rate * 0.6 : (lo + hi) / 2);
  }
  return { label, probe, steps, max: lo };
}
