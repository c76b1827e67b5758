import { sql } from 'drizzle-orm';
import { openDb, rowsOf } from '@/db/client';
import { latencyCells } from '@/db/queries/metrics';
import { latencySeries } from '@/lib/metrics/series';
import { KNOWN_EVENTS } from '@/lib/providers/skylight/protocol';

export type DashboardCase = {
  name: string;
  points: number;
  rawMs: number;
  oursMs: number;
  speedup: number;
  /** Largest relative error of p50/p95/p99 over the points with at least 50 receipts. */
  maxErrorPct: number;
};

export type DashboardResult = {
  receipts: number;
  days: number;
  tierRows: number;
  insertS: number;
  cases: DashboardCase[];
};

const MIN_COUNT = 50;

function median(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

type Point = { t: number; count: number; p: [number, number, number] };

/**
 * The dashboard's latency charts two ways: the app's path (latency_rollups tiers read by
 * db/queries/metrics.ts, percentiles in lib/metrics) and percentile_disc per bucket over raw receipts
 * (nearest rank, the same definition the histograms use).
 */
export async function dashboardBench(
  url: string,
  n: number,
  reps: number,
  days = 30,
): Promise<DashboardResult> {
  // One connection, so the session setting below holds for every statement.
  const h = await openDb({ url, max: 1 });
  const db = h.db;
  try {
    // The app's 15 s statement timeout is for requests; generating millions of rows takes longer.
    await db.execute(sql`set statement_timeout = 0`);
    const t0 = performance.now();
    // Receipts spread evenly over `days`; ack times log-normal (median 4 ms, long tail).
    await db.execute(sql`
      insert into receipts (delivery_id, event_type, outcome, http_status, ack_ms, lag_ms, received_at, headers, body_bytes)
      select 'd-' || g, (array[${sql.join(
        KNOWN_EVENTS.map((t) => sql`${t}`),
        sql`, `,
      )}]::text[])[1 + g % ${sql.raw(String(KNOWN_EVENTS.length))}],
             case when g % 20 = 0 then 'duplicate' else 'accepted' end, 200,
             exp(ln(4) + 0.8 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))::real,
             (random() * 2000)::real,
             now() - ${`${days} days`}::interval + (g::float8 / ${n}) * (${`${days} days`}::interval - interval '1 minute'),
             '{}'::jsonb, 1024
        from generate_series(1, ${n}) g`);
    // The tiers writeRollups (db/queries/rollups.ts) maintains, built in one pass.
    for (const [granularity, unit] of [
      ['minute', 'minute'],
      ['hour', 'hour'],
    ] as const) {
      for (const byType of [true, false]) {
        await db.execute(sql`
          insert into latency_rollups (granularity, bucket, event_type, count, ack_hist, lag_hist)
          select ${granularity}, b, et, sum(c), jsonb_object_agg(ab::text, c), '{}'::jsonb
            from (select date_trunc(${unit}, received_at) as b, ${byType ? sql`event_type` : sql`'*'`} as et,
                         hist_bucket(ack_ms) as ab, count(*) as c
                    from receipts group by 1, 2, 3) x
           group by 1, 2, 3`);
      }
    }
    await db.execute(sql`vacuum analyze receipts`);
    await db.execute(sql`vacuum analyze latency_rollups`);
    const insertS = (performance.now() - t0) / 1000;
    const tierRows = Number(
      rowsOf<{ c: number }>(await db.execute(sql`select count(*)::int as c from latency_rollups`))[0]!.c,
    );

    const now = Date.now();
    const cases = [
      {
        name: '24 h at 1-minute buckets, all event types',
        from: new Date(now - 24 * 3_600_000),
        bucketS: 60,
        type: undefined,
      },
      {
        name: `${days} days hourly, one event type`,
        from: new Date(now - days * 24 * 3_600_000),
        bucketS: 3600,
        type: 'message.received',
      },
    ];
    const out: DashboardCase[] = [];
    for (const c of cases) {
      const to = new Date(now);
      const range = { from: c.from, to, event_type: c.type };
      const ours = async (): Promise<Point[]> =>
        latencySeries(
          await latencyCells(db, 'ack', range, c.bucketS),
          c.from.getTime(),
          to.getTime(),
          c.bucketS,
        )
          .filter((p) => p.count > 0)
          .map((p) => ({ t: new Date(p.t).getTime(), count: p.count, p: [p.p50!, p.p95!, p.p99!] }));
      const raw = async (): Promise<Point[]> => {
        const res = await db.execute(sql`
          select (extract(epoch from date_bin(make_interval(secs => ${c.bucketS}), received_at, timestamptz '1970-01-01')) * 1000)::float8 as t,
                 count(*)::int as n,
                 percentile_disc(array[0.5, 0.95, 0.99]) within group (order by ack_ms) as p
            from receipts
           where received_at >= ${c.from.toISOString()}::timestamptz and received_at < ${to.toISOString()}::timestamptz
             ${c.type ? sql`and event_type = ${c.type}` : sql``}
           group by 1`);
        return rowsOf<{ t: number; n: number; p: number[] }>(res).map((r) => ({
          t: Number(r.t),
          count: Number(r.n),
          p: r.p.map(Number) as [number, number, number],
        }));
      };
      const time = async <T>(fn: () => Promise<T>) => {
        let result = await fn();
        const ms: number[] = [];
        for (let i = 0; i < reps; i++) {
          const t = performance.now();
          result = await fn();
          ms.push(performance.now() - t);
        }
        return { ms: median(ms), result };
      };
      const r = await time(raw);
      const o = await time(ours);
      const byT = new Map(o.result.map((p) => [p.t, p]));
      let maxErr = 0;
      for (const exact of r.result) {
        const got = byT.get(exact.t);
        if (!got || exact.count < MIN_COUNT) continue;
        for (let i = 0; i < 3; i++)
          maxErr = Math.max(maxErr, Math.abs(got.p[i]! - exact.p[i]!) / exact.p[i]!);
      }
      out.push({
        name: c.name,
        points: o.result.length,
        rawMs: rnd(r.ms),
        oursMs: rnd(o.ms),
        speedup: rnd(r.ms / o.ms),
        maxErrorPct: rnd(maxErr * 100),
      });
    }
    return { receipts: n, days, tierRows, insertS: rnd(insertS), cases: out };
  } finally {
    await h.close();
  }
}

const rnd = (v: number) => Math.round(v * 1000) / 1000;
