// The default configuration alone (issue #19), for trying a lever between full runs: P1's closed-loop
// ack rate at 20 connections, then ours with the inline worker on Postgres and on PGlite, each
// searched for the highest rate it acks AND processes (bench/pipeline.ts, the full run's settings).
// Each is also read against a peer on its own database: P1W (P1 + graphile-worker, searched the same
// way) on Postgres, P0 on PGlite (closed loop) on PGlite.
//   npx tsx bench/pipeline-only.ts [--steps 4] [--step-seconds 60] [--only pg|pglite] [--env K=V …]
// --env sets a variable of ours (for an A/B of a setting: --env WORKER_CONCURRENCY=1); --rates 400,550
// runs those fixed steps, in that order, instead of the search (the same steps for both sides of an A/B),
// each with the CPU it cost per delivery (the server's processes and Postgres's), beside P1's per ack.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { npmStartArgs } from '../test/helpers/npm-start';
import { appEnv, envPairs } from './app-env';
import { autocannonClosed } from './closed';
import { cpuSince } from './cpu';
import { prepareNextCopy } from './next-copy';
import { Feed } from './payloads';
import { FULL_RUN_PIPELINE, pipelineSearch, pipelineStep, quiet, stepLine } from './pipeline';
import { startProc, stopAll, stopProc, waitHttp } from './procs';
import { createScratch, dropScratch } from './scratch-db';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: String(FULL_RUN_PIPELINE.steps) },
    'step-seconds': { type: 'string', default: String(FULL_RUN_PIPELINE.stepMs / 1000) },
    only: { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
    rates: { type: 'string' },
  },
});
const extraEnv = envPairs(values.env);
const rates = values.rates?.split(',').map((r) => {
  const n = Number(r);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--rates wants whole deliveries/s, got ${r}`);
  return n;
});
const STEP = {
  ...FULL_RUN_PIPELINE,
  stepMs: Number(values['step-seconds']) * 1000,
  steps: Number(values.steps),
};
const REPO = path.resolve(import.meta.dirname, '..');
const RUN = randomBytes(3).toString('hex');
const SECRET = `bench-secret-${RUN}`;
const BASE = Number(process.env.BENCH_PORT_BASE ?? 4300);
const HOOK = '/api/webhooks/skylightchat';
const t0 = Date.now();
const say = (s: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${s}`);
/**
 * The CPU a server's process group and Postgres spent from now on, per delivery: what a rate costs,
 * so the ceiling of two shared cores can be worked out (acked and processed, for the inline worker).
 */
function cpuOf(pgrp: number) {
  const took = cpuSince(pgrp);
  return {
    perDelivery(n: number) {
      const { appMs, pgMs } = took();
      const us = (ms: number) => Math.round((ms / Math.max(1, n)) * 1000);
      return `CPU per delivery: app ${us(appMs)} µs, Postgres ${us(pgMs)} µs`;
    },
  };
}
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const times = (a: number | null, b: number | null) => (a === null || !b ? '–' : `${(a / b).toFixed(2)}×`);
const pgliteDir = `/tmp/bench-pipeline-${RUN}`;
const scratch = [`bench_${RUN}_p1`, `bench_${RUN}_inline`, `bench_${RUN}_p1w`];

/**
 * What each of ours is read against beside P1 (see bench/peers): on Postgres the reference that
 * also processes (P1W, searched like ours for the rate it acks and processes), on PGlite the simplest
 * receiver on the same embedded database (P0 on PGlite, closed loop at 20 connections).
 */
async function referencePeers(p1Acks: number) {
  const peerArgs = (file: string) => ['--import', 'tsx', path.join(REPO, 'bench/peers', file)];
  let p1w = { label: 'P1W', rate: null as number | null };
  if (values.only !== 'pglite') {
    const db = await createScratch(scratch[2]!);
    const proc = startProc('P1W', process.execPath, peerArgs('p1-worker.ts'), {
      cwd: REPO,
      env: { ...appEnv(SECRET, db), BENCH_PORT: String(BASE + 22), BENCH_DATABASE_URL: db },
    });
    await waitHttp(proc, BASE + 22);
    const url = `http://127.0.0.1:${BASE + 22}${HOOK}`;
    const feed = new Feed(SECRET, 'accept', 5e9);
    await autocannonClosed(url, 20, 2000, feed);
    await quiet(new URL(url).origin);
    const res = await pipelineSearch('P1W (P1 + graphile-worker)', url, feed, STEP, say, () => sleep(2000));
    p1w = { label: `P1W's ${res.max ?? 'none'}/s`, rate: res.max };
    say(`P1W: highest clean rate ${res.max ?? 'none'}/s = ${times(res.max, p1Acks)} P1's acks/s`);
    await stopProc(proc);
  }
  let p0Pglite = { label: 'P0 on PGlite', rate: null as number | null };
  if (values.only !== 'pg') {
    const dir = `${pgliteDir}-p0`;
    const proc = startProc('P0-pglite', process.execPath, peerArgs('p0-pglite.ts'), {
      cwd: REPO,
      env: { ...appEnv(SECRET, undefined), BENCH_PORT: String(BASE + 23), BENCH_PGLITE_DIR: dir },
    });
    try {
      await waitHttp(proc, BASE + 23);
      const url = `http://127.0.0.1:${BASE + 23}${HOOK}`;
      const feed = new Feed(SECRET, 'accept', 6e9);
      await autocannonClosed(url, 20, 3000, feed);
      const run = await autocannonClosed(url, 20, 10_000, feed);
      p0Pglite = { label: `P0 on PGlite's ${run.acksPerSecond} acks/s`, rate: run.acksPerSecond };
      say(
        `P0 on PGlite closed loop c=20: ${run.acksPerSecond} acks/s = ${times(run.acksPerSecond, p1Acks)} P1's`,
      );
    } finally {
      await stopProc(proc);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { p1w, p0Pglite };
}

try {
  const nextDir = await prepareNextCopy(REPO, say);
  const p1Db = await createScratch(scratch[0]!);
  const p1 = startProc('P1', process.execPath, ['--import', 'tsx', path.join(REPO, 'bench/peers/p1.ts')], {
    cwd: REPO,
    env: { ...appEnv(SECRET, p1Db), BENCH_PORT: String(BASE + 2), BENCH_DATABASE_URL: p1Db },
  });
  await waitHttp(p1, BASE + 2);
  const p1Feed = new Feed(SECRET, 'accept', 0);
  await autocannonClosed(`http://127.0.0.1:${BASE + 2}${HOOK}`, 20, 3000, p1Feed);
  const p1Cpu = cpuOf(p1.child.pid!);
  const p1Run = await autocannonClosed(`http://127.0.0.1:${BASE + 2}${HOOK}`, 20, 10_000, p1Feed);
  say(`P1 closed loop c=20: ${p1Run.acksPerSecond} acks/s, ${p1Cpu.perDelivery(p1Run.ok)}`);
  await stopProc(p1);
  // Fixed --rates steps compare two settings of ours; the search compares ours with the peers.
  const peers = rates ? null : await referencePeers(p1Run.acksPerSecond);

  for (const kind of ['pg', 'pglite'] as const) {
    if (values.only && values.only !== kind) continue;
    const port = BASE + (kind === 'pg' ? 20 : 21);
    const db = kind === 'pg' ? await createScratch(scratch[1]!) : undefined;
    const proc = startProc(`inline-${kind}`, process.execPath, npmStartArgs(nextDir), {
      cwd: nextDir,
      env: { ...appEnv(SECRET, db, pgliteDir), WORKER_INLINE: 'true', PORT: String(port), ...extraEnv },
    });
    await waitHttp(proc, port);
    const url = `http://127.0.0.1:${port}${HOOK}`;
    const feed = new Feed(SECRET, 'accept', 4e9);
    await autocannonClosed(url, 20, 2000, feed);
    await sleep(2000);
    if (rates) {
      for (const rate of rates) {
        const cpu = cpuOf(proc.child.pid!);
        const st = await pipelineStep(url, feed, rate, STEP.stepMs, STEP.p99LimitMs, STEP.catchUpMs);
        say(`${stepLine(`ours inline (${kind})`, st)}, ${cpu.perDelivery(st.run.ok)}`);
        // As the search does: the next step must not inherit this one's backlog.
        if (st.catchUpS === null) await quiet(new URL(url).origin);
        await sleep(2000);
      }
      await stopProc(proc);
      continue;
    }
    const res = await pipelineSearch(`ours inline (${kind})`, url, feed, STEP, say, async () => {
      await sleep(2000);
    });
    const peer = kind === 'pg' ? peers!.p1w : peers!.p0Pglite;
    say(
      `ours inline (${kind}): highest clean rate ${res.max ?? 'none'}/s = ${times(res.max, p1Run.acksPerSecond)} P1's ${p1Run.acksPerSecond} acks/s, ${times(res.max, peer.rate)} ${peer.label}`,
    );
    await stopProc(proc);
  }
} finally {
  await stopAll();
  for (const name of scratch) await dropScratch(name).catch(() => {});
  rmSync(pgliteDir, { recursive: true, force: true });
}
