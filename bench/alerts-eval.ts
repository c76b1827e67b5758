// Alert evaluation cost as receipts grow (issue 15): `npx tsx bench/alerts-eval.ts [n ...]`
// (default 10,000 250,000 1,000,000). One PGlite folder gets the first n receipts over 30 days with
// their rollups, events, attempts and dead letters (bench/dashboard-data.ts), then grows to each next
// n with plain receipts and processed events; at each size one full evaluation round (every rule, no
// provider API) is timed, median of 7 after a warm-up. Results go to BENCHMARKS.md by hand.
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
const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const SIZES = sizes.length > 0 ? sizes : [10_000, 250_000, 1_000_000];

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

/**
 * More receipts and events on top of the generated base, as a long-running app accumulates them:
 * plain rows (received and processed over the 30 days), no rollups, since the rollups' size depends
 * on minutes and types, not on how many receipts they count.
 */
async function grow(db: Db, from: number, to: number) {
  const span = '30 days';
  await db.execute(sql`
    insert into receipts (source, provider, delivery_id, event_type, outcome, http_status, ack_ms, lag_ms, received_at, headers, body_bytes)
    select 'skylightchat', 'skylight', 'g-' || g, 'message.received', 'accepted', 200, 4, 300,
           now() - ${span}::interval + (g::float8 / ${to}) * ${span}::interval, '{}'::jsonb, 1024
      from generate_series(${from + 1}::int, ${to}::int) g`);
  await db.execute(sql`
    insert into events (source, provider, delivery_id, event_type, payload, status, created_at, processed_at)
    select 'skylightchat', 'skylight', 'g-' || g, 'message.received', '{}'::jsonb, 'processed',
           now() - ${span}::interval + (g::float8 / ${to}) * ${span}::interval, now()
      from generate_series(${from + 1}::int, ${to}::int) g`);
  await db.execute(sql`vacuum analyze`);
}

const dir = mkdtempSync(path.join(tmpdir(), 'alerts-bench-'));
const h = await openDb({ pgliteDir: dir });
try {
  const base = SIZES[0]!;
  const t0 = performance.now();
  await generateDashboardData(h.db, { n: base, days: 30, receiptRollups: true, events: true });
  await h.db.execute(sql`vacuum analyze`);
  console.log(
    `base: ${base.toLocaleString('en')} receipts with rollups, events, attempts, dead letters in ${Math.round((performance.now() - t0) / 1000)} s`,
  );
  let have = base;
  for (const n of SIZES) {
    if (n > have) {
      const t = performance.now();
      await grow(h.db, have, n);
      console.log(
        `grew to ${n.toLocaleString('en')} receipts and events in ${Math.round((performance.now() - t) / 1000)} s`,
      );
      have = n;
    }
    const r = await run(h.db);
    console.log(
      `receipts ${n.toLocaleString('en')}: evaluation ${r.total} ms; per rule ${JSON.stringify(r.perRule)}`,
    );
  }
} finally {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
}
