// The default configuration end to end (issue #19): `npm start` with the inline worker on, measured
// by what it acks AND processes. A rate counts only when every delivery was acked (no errors, p99 ≤
// the limit) and the worker kept up: at the end of the run the backlog (acked, not yet processed) is
// at most two seconds of arrivals, and it is gone within a few seconds after the load stops.
import { autocannonClosed } from './closed';
import { type LoadResult, openLoop } from './load';
import type { Feed } from './payloads';

export type PipelineStep = {
  rate: number;
  run: LoadResult;
  /** [seconds into the run, acked − processed] every second. */
  backlog: Array<[number, number]>;
  backlogAtEnd: number;
  /** Seconds after the load stopped until every acked delivery was processed; null: not within the wait. */
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

/**
 * Events the server's worker has completed (success or skipped_stale), from its Prometheus endpoint:
 * the only count that is the same for PGlite (inside the app's process) and Postgres.
 */
export async function processedCount(origin: string): Promise<number> {
  const text = await fetch(`${origin}/metrics`, { signal: AbortSignal.timeout(5000) }).then((r) => r.text());
  let n = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('skylight_worker_attempts_total{')) continue;
    if (!/result="(success|skipped_stale)"/.test(line)) continue;
    n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

async function waitCaughtUp(origin: string, base: number, acked: number, maxMs: number) {
  const t0 = performance.now();
  while (performance.now() - t0 < maxMs) {
    if ((await processedCount(origin)) - base >= acked) return (performance.now() - t0) / 1000;
    await sleep(250);
  }
  return null;
}

/** Waits (at most 60 s) until the worker's completed count stops moving for a second. */
export async function quiet(origin: string) {
  const until = Date.now() + 60_000;
  let last = -1;
  while (Date.now() < until) {
    const n = await processedCount(origin);
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
  const base = await processedCount(origin);
  // The connection-opening deliveries are acked before the clock starts; the worker processes them too.
  let acked = CONNECT;
  const backlog: Array<[number, number]> = [];
  const t0 = performance.now();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await sleep(1000);
      if (!sampling) break;
      const done = (await processedCount(origin).catch(() => null)) ?? base;
      backlog.push([Math.round((performance.now() - t0) / 1000), acked - (done - base)]);
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
  const backlogAtEnd = acked - ((await processedCount(origin)) - base);
  const catchUpS = await waitCaughtUp(origin, base, acked, catchUpMs);
  const clean =
    run.errors === 0 &&
    run.p99 !== null &&
    run.p99 <= p99LimitMs &&
    backlogAtEnd <= Math.max(50, rate * 2) &&
    catchUpS !== null;
  return { rate, run, backlog, backlogAtEnd, catchUpS, clean };
}

/** One step as the logs print it. */
export function stepLine(label: string, st: PipelineStep): string {
  const worst = Math.max(0, ...st.backlog.map(([, n]) => n));
  const caught = st.catchUpS === null ? 'no' : `${st.catchUpS.toFixed(1)} s`;
  return `  ${label} ${st.rate}/s: ${st.run.throughput} acks/s p50 ${st.run.p50} p99 ${st.run.p99} ms, errors ${st.run.errors}, backlog max ${worst} at end ${st.backlogAtEnd}, caught up ${caught} → ${st.clean ? 'clean' : 'NOT clean'}`;
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
  const base = await processedCount(origin);
  const t0 = performance.now();
  const c = await autocannonClosed(url, 20, cfg.probeMs, feed);
  const caught = await waitCaughtUp(origin, base, c.ok, 60_000);
  const processedIn = (performance.now() - t0) / 1000;
  const probe = {
    acksPerSecond: c.acksPerSecond,
    processedPerSecond: Math.round(((await processedCount(origin)) - base) / processedIn),
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
