// The default configuration alone (issue #19), for trying a lever between full runs: P1's closed-loop
// ack rate at 20 connections, then ours with the inline worker on Postgres and on PGlite, each
// searched for the highest rate it acks AND processes (bench/pipeline.ts, the full run's settings).
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
const pgliteDir = `/tmp/bench-pipeline-${RUN}`;
const scratch = [`bench_${RUN}_p1`, `bench_${RUN}_inline`];

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
    say(
      `ours inline (${kind}): highest clean rate ${res.max ?? 'none'}/s = ${res.max === null ? '–' : (res.max / p1Run.acksPerSecond).toFixed(2)}× P1's ${p1Run.acksPerSecond} acks/s`,
    );
    await stopProc(proc);
  }
} finally {
  await stopAll();
  for (const name of scratch) await dropScratch(name).catch(() => {});
  rmSync(pgliteDir, { recursive: true, force: true });
}
