// The worker drain alone, A B C A B C: ours unbatched (WORKER_BATCH_SIZE=1), ours batched (16, the
// default), graphile-worker. For measuring a worker change between full runs:
//   npx tsx bench/worker-only.ts [--n 5000] [--reps 3] [--concurrency 4]
import { parseArgs } from 'node:util';
import { createScratch, dropAllScratch } from './scratch-db';
import { drainGraphile, drainOurs } from './worker-bench';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '5000' },
    reps: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '4' },
  },
});
const n = Number(values.n);
const c = Number(values.concurrency);
const run = Math.random().toString(36).slice(2, 8);
try {
  for (let rep = 0; rep < Number(values.reps); rep++) {
    const one = await drainOurs(await createScratch(`bench_${run}_w1_${rep}`), n, c, 1);
    const batched = await drainOurs(await createScratch(`bench_${run}_wb_${rep}`), n, c, 16);
    const gw = await drainGraphile(await createScratch(`bench_${run}_gw_${rep}`), n, c);
    console.log(
      `rep ${rep + 1}: unbatched ${one.perSecond}/s (${one.commitsPerEvent} commits/event), batched ${batched.perSecond}/s (${batched.commitsPerEvent} commits/event), graphile-worker ${gw.perSecond}/s; batched/graphile ${(batched.perSecond / gw.perSecond).toFixed(2)}`,
    );
  }
} finally {
  await dropAllScratch();
}
