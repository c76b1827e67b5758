// What the rollups job's write (db/queries/rollups.ts writeRollups) costs the database once a second, on
// PGlite in this process (its one thread, db/pglite-worker.mjs) or on a scratch Postgres database:
// a minute of a steady load replayed as 60 writes of one second's cells each, then the next minute's.
//   npx tsx bench/rollup-write.ts [--pg] [--rate 400] [--types 1,6] [--seconds 120]
import { parseArgs } from 'node:util';
import { openDb } from '@/db/client';
import { record } from '@/db/histogram';
import { type RollupCell, writeRollups } from '@/db/queries/rollups';
import { createScratch, dropAllScratch } from './scratch-db';

const { values } = parseArgs({
  options: {
    pg: { type: 'boolean', default: false },
    rate: { type: 'string', default: '400' },
    types: { type: 'string', default: '1,6' },
    seconds: { type: 'string', default: '120' },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);

// Deterministic, so two versions of the code write the same cells.
let seed = 42;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
/** A log-normal draw: most acks a few ms with a tail, lags of tens to hundreds of ms. */
const logNormal = (medianMs: number, sigma: number) => {
  const u = Math.max(random(), 1e-9);
  const v = random();
  return medianMs * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
};

function secondOfCells(t0: number, second: number, types: number): RollupCell[] {
  const minute = Math.floor((t0 + second * 1000) / 60_000) * 60_000;
  const cells = new Map<string, RollupCell>();
  for (let i = 0; i < rate; i++) {
    const eventType = `type.${i % types}`;
    // One in fifty a duplicate, as a redelivering provider makes.
    const outcome = random() < 0.02 ? 'duplicate' : 'accepted';
    const key = `${eventType}|${outcome}`;
    const c = cells.get(key) ?? {
      minute,
      source: 'skylight',
      eventType,
      outcome,
      count: 0,
      ack: {},
      lag: {},
    };
    c.count++;
    record(c.ack, logNormal(3, 0.8));
    record(c.lag, logNormal(120, 1));
    cells.set(key, c);
  }
  return [...cells.values()];
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

for (const types of values.types.split(',').map(Number)) {
  const url = values.pg ? await createScratch(`bench_rollup_${process.pid}_${types}`) : undefined;
  const h = url ? await openDb({ url, max: 2 }) : await openDb({ pgliteDir: 'memory://' });
  const t0 = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const times: number[] = [];
  for (let s = 0; s < seconds; s++) {
    const cells = secondOfCells(t0, s, types);
    const start = performance.now();
    await writeRollups(h.db, cells);
    // The first 10 s fill the rows; what the job pays from then on is what a running app pays.
    if (s >= 10) times.push(performance.now() - start);
  }
  const sum = times.reduce((a, b) => a + b, 0);
  console.log(
    `${url ? 'postgres' : 'pglite'} ${rate}/s, ${types} event type(s): a write p50 ${quantile(times, 0.5).toFixed(2)} ms, ` +
      `p90 ${quantile(times, 0.9).toFixed(2)} ms, max ${Math.max(...times).toFixed(2)} ms, mean ${(sum / times.length).toFixed(2)} ms`,
  );
  await h.close();
}
await dropAllScratch();
