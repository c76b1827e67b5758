// Alert evaluation cost as receipts grow (issue 15): `npx tsx bench/alerts-eval.ts [n ...]`
// (default 10,000 100,000 1,000,000). For each n, a fresh PGlite folder gets n receipts over 30 days
// with their rollups, events, attempts and dead letters (bench/dashboard-data.ts), then one full
// evaluation round (every rule, no provider API) is timed: median of 7 after a warm-up. Results go to
// BENCHMARKS.md by hand.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { type Db, openDb } from '@/db/client';
import type { AlertRule } from '@/db/schema';
import { CHECKS } from '@/lib/alerts/checks';
import { evaluateAlerts } from '@/lib/alerts/engine';
import { effectiveRules } from '@/lib/alerts/rules';
import { generateDashboardData } from './dashboard-data';

const REPS = 7;
const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const SIZES = sizes.length > 0 ? sizes : [10_000, 100_000, 1_000_000];

function median(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.floor(s.length / 2)]! * 10) / 10;
}

async function timed(fn: () => Promise<unknown>) {
  await fn();
  const ms: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

async function run(db: Db) {
  let i = 0;
  const round = () =>
    evaluateAlerts({
      db,
      // A new holder each time would wait for the lease: one holder renews it.
      holder: 'bench',
      sources: async () => [
        { slug: 'skylightchat', provider: 'skylight' },
        { slug: 'sly', provider: 'sly' },
      ],
      management: async () => null,
      appUrl: null,
      retentionDays: 30,
      pgliteDir: null,
      resolveAfterMs: 120_000,
      leaseMs: 60_000,
    }).then(() => i++);
  const total = await timed(round);
  const rules = effectiveRules([]);
  const perRule: Record<string, number> = {};
  for (const r of rules) {
    perRule[r.rule] = await timed(() =>
      CHECKS[r.rule as AlertRule](
        { db, now: new Date(), sources: [], retentionDays: 30, watchdog: null, disk: async () => null },
        r,
      ),
    );
  }
  return { total, perRule };
}

for (const n of SIZES) {
  const dir = mkdtempSync(path.join(tmpdir(), 'alerts-bench-'));
  const h = await openDb({ pgliteDir: dir });
  try {
    const t0 = performance.now();
    await generateDashboardData(h.db, { n, days: 30, receiptRollups: true, events: true });
    await h.db.execute(sql`vacuum analyze`);
    const genS = Math.round((performance.now() - t0) / 1000);
    const r = await run(h.db);
    console.log(
      `receipts ${n.toLocaleString('en')} (generated in ${genS} s): evaluation ${r.total} ms; per rule ${JSON.stringify(r.perRule)}`,
    );
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
