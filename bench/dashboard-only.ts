// The dashboard part of issue #5's benchmark alone (no receiver load, no other peers):
//   npx tsx bench/dashboard-only.ts [--pg N] [--pglite N] [--reps R]
// --pg: receipts for the Postgres latency charts (default 10,000,000; 0 skips them); --pglite:
// receipts for the Overview API set on PGlite (default 1,000,000; 0 skips it). Prints JSON.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

process.env.LOG_LEVEL ??= 'warn';

const { values } = parseArgs({
  options: {
    pg: { type: 'string', default: '10000000' },
    pglite: { type: 'string', default: '1000000' },
    reps: { type: 'string', default: '5' },
  },
});
const pgN = Number(values.pg);
const pgliteN = Number(values.pglite);
const reps = Number(values.reps);
const RUN = randomBytes(3).toString('hex');
const t0 = Date.now();
const say = (s: string) => console.error(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${s}`);

const { createScratch, dropScratch } = await import('./scratch-db');
const { dashboardBench } = await import('./dashboard-bench');
const { pgliteOverviewBench } = await import('./pglite-overview');

const out: Record<string, unknown> = {};
if (pgN > 0) {
  const name = `bench_${RUN}_dash`;
  try {
    out.dashboard = await dashboardBench(await createScratch(name), pgN, reps, 30, say);
  } finally {
    await dropScratch(name);
  }
}
if (pgliteN > 0) {
  const dir = path.join(os.tmpdir(), `bench-pglite-overview-${RUN}`);
  try {
    out.pgliteOverview = await pgliteOverviewBench(dir, pgliteN, reps, say);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(JSON.stringify(out, null, 2));
