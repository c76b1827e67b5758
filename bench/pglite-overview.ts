import { sql } from 'drizzle-orm';
import { type Db, openDb, rowsOf } from '@/db/client';
import { rangeMs, type TimeRange } from '@/lib/metrics/buckets';
import { latencyOverTime, outcomesOverTime, retryRate, summary } from '@/lib/metrics/dashboard';
import { generateDashboardData } from './dashboard-data';

export type OverviewRange = {
  range: TimeRange;
  /** The whole API set, requested concurrently as the Overview page does (median of reps). */
  ms: number;
  /** Each endpoint alone (median of reps), to see where the time goes. */
  endpoints: Record<OverviewEndpoint, number>;
};

export type PgliteOverviewResult = {
  receipts: number;
  /** Seconds to generate receipts, rollups, events and attempts (vacuum analyze included). */
  generateS: number;
  ranges: OverviewRange[];
};

const DAYS = 30;

// What the Overview fetches (app/(dashboard)/client.tsx and its charts, lib/queries/metrics.ts):
// the two retry charts share one query, so retry-rate is requested once.
const ENDPOINTS = {
  summary: (db: Db, q: Range) => summary(db, q),
  'ack-latency': (db: Db, q: Range) => latencyOverTime(db, 'ack', q),
  'delivery-lag': (db: Db, q: Range) => latencyOverTime(db, 'lag', q),
  outcomes: (db: Db, q: Range) => outcomesOverTime(db, q),
  'retry-rate': (db: Db, q: Range) => retryRate(db, q),
};
type OverviewEndpoint = keyof typeof ENDPOINTS;
type Range = { from: Date; to: Date };

function median(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timed(fn: () => Promise<unknown>, reps: number): Promise<number> {
  await fn();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return Math.round(median(ms) * 10) / 10;
}

/**
 * The Overview's API set on PGlite with n receipts over 30 days (plus their rollups, one event per
 * accepted receipt with attempts, retries and dead letters), for the 24 h and 30 d ranges. `dir`
 * must be a new folder: the data is generated into it.
 */
export async function pgliteOverviewBench(
  dir: string,
  n: number,
  reps: number,
  say: (line: string) => void = () => {},
): Promise<PgliteOverviewResult> {
  const h = await openDb({ pgliteDir: dir });
  const db = h.db;
  try {
    const existing = rowsOf<{ n: number }>(
      await db.execute(sql`select count(*)::int as n from receipts`),
    )[0]!;
    if (Number(existing.n) > 0) throw new Error(`${dir} already holds receipts: give a new folder`);
    const t0 = performance.now();
    await generateDashboardData(db, { n, days: DAYS, receiptRollups: true, events: true, say });
    const generateS = Math.round((performance.now() - t0) / 100) / 10;

    const ranges: OverviewRange[] = [];
    for (const range of ['24h', '30d'] as const) {
      // The window slides with every request, as the page computes it at fetch time.
      const window = (): Range => {
        const to = new Date();
        return { from: new Date(to.getTime() - rangeMs(range)), to };
      };
      const ms = await timed(() => {
        const q = window();
        return Promise.all(Object.values(ENDPOINTS).map((fn) => fn(db, q)));
      }, reps);
      const endpoints = {} as Record<OverviewEndpoint, number>;
      for (const [name, fn] of Object.entries(ENDPOINTS))
        endpoints[name as OverviewEndpoint] = await timed(() => fn(db, window()), reps);
      ranges.push({ range, ms, endpoints });
      say(`overview ${range}: ${ms} ms (${JSON.stringify(endpoints)})`);
    }
    return { receipts: n, generateS, ranges };
  } finally {
    await h.close();
  }
}
