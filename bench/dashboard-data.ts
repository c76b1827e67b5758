import { sql } from 'drizzle-orm';
import { type Db, rowsOf } from '@/db/client';
import { ensureDayPartitions } from '@/db/queries/partitions';
import { KNOWN_EVENTS } from '@/lib/providers/skylight/protocol';

export type DashboardData = {
  /** Receipts spread evenly over `days` up to now. */
  n: number;
  days: number;
  /** Receipts per insert statement, so no single statement holds millions of rows in memory. */
  chunk?: number;
  /** Also per-minute receipt_rollups (outcome charts, KPIs). */
  receiptRollups?: boolean;
  /** Also one event per accepted receipt, with attempts, retries and dead letters. */
  events?: boolean;
  say?: (line: string) => void;
};

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Fills a migrated database the way the receiver and the rollup job would have over `days`:
 * receipts (ack times log-normal, median 4 ms with a long tail; 5 % duplicates, 1 % rejected without
 * a type or a lag), then the rollups built from those receipts with the histogram bucketing of
 * lib/metrics (hist_bucket), one day per statement. The caller lifts statement_timeout.
 */
export async function generateDashboardData(db: Db, o: DashboardData): Promise<{ tierRows: number }> {
  const say = o.say ?? (() => {});
  const chunk = o.chunk ?? 1_000_000;
  const types = sql`array[${sql.join(
    KNOWN_EVENTS.map((t) => sql`${t}`),
    sql`, `,
  )}]::text[]`;
  const span = `${o.days} days`;
  // Each day in its own table, as the app's partition job would have made them (migration 0018).
  await ensureDayPartitions(db, { from: new Date(Date.now() - (o.days + 1) * DAY_MS) });
  for (let lo = 1; lo <= o.n; lo += chunk) {
    const hi = Math.min(o.n, lo + chunk - 1);
    await db.execute(sql`
      insert into receipts (source, provider, delivery_id, event_type, outcome, http_status, ack_ms, lag_ms, received_at, headers, body_bytes)
      select 'skylightchat', 'skylight', 'd-' || g,
             case when x < 1 then null else (${types})[1 + g % ${sql.raw(String(KNOWN_EVENTS.length))}] end,
             case when x < 1 then 'rejected' when x < 6 then 'duplicate' else 'accepted' end,
             case when x < 1 then 401 else 200 end,
             exp(ln(4) + 0.8 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))::real,
             case when x < 1 then null else (random() * 2000)::real end,
             now() - ${span}::interval + (g::float8 / ${o.n}) * (${span}::interval - interval '1 minute'),
             '{}'::jsonb, 1024
        from generate_series(${lo}::int, ${hi}::int) g, lateral (select abs(hashint4(g)::int8) % 100 as x) h`);
    say(`receipts ${hi.toLocaleString('en')}/${o.n.toLocaleString('en')}`);
  }

  // Rollups per whole day (hour-aligned), each from one scan of that day's receipts.
  const start = Math.floor((Date.now() - o.days * DAY_MS) / HOUR_MS) * HOUR_MS;
  for (let from = start; from < Date.now() + HOUR_MS; from += DAY_MS) {
    const range = sql`received_at >= ${new Date(from).toISOString()}::timestamptz
                  and received_at < ${new Date(from + DAY_MS).toISOString()}::timestamptz`;
    // The tiers writeRollups (db/queries/rollups.ts) maintains: minute and hour, per type and '*', with
    // the percentiles and lag total it stores beside the histograms.
    await db.execute(sql`
      insert into latency_rollups
             (granularity, bucket, event_type, count, ack_hist, lag_hist, ack_pcts, lag_pcts, lag_count)
      select g, b, et, n, ah, lh, hist_pcts(ah), hist_pcts(lh), hist_total(lh) from (
      select case when gm = 0 then 'minute' else 'hour' end as g, coalesce(m, h) as b,
             case when ge = 0 then et else '*' end as et,
             coalesce(sum(c) filter (where kind = 'ack'), 0) as n,
             coalesce(jsonb_object_agg(hb, c) filter (where kind = 'ack'), '{}'::jsonb) as ah,
             coalesce(jsonb_object_agg(hb, c) filter (where kind = 'lag'), '{}'::jsonb) as lh
        from (select grouping(m) as gm, grouping(et) as ge, m, h, et, kind, hb, count(*) as c
                from (select date_trunc('minute', received_at) as m, date_trunc('hour', received_at) as h,
                             coalesce(event_type, '') as et, k.kind, k.hb
                        from receipts,
                             lateral (values ('ack', hist_bucket(ack_ms)),
                                             ('lag', hist_bucket(greatest(lag_ms, 0)))) as k(kind, hb)
                       where ${range} and k.hb is not null) r
               group by grouping sets ((m, et, kind, hb), (m, kind, hb), (h, et, kind, hb), (h, kind, hb))) x
       group by gm, ge, coalesce(m, h), case when ge = 0 then et else '*' end) t`);
    if (o.receiptRollups)
      await db.execute(sql`
        insert into receipt_rollups (minute, event_type, outcome, count)
        select date_trunc('minute', received_at), coalesce(event_type, ''), outcome, count(*)
          from receipts
         where ${range}
         group by 1, 2, 3`);
    if (o.receiptRollups)
      await db.execute(sql`
        insert into receipt_counts_hourly (hour, event_type, outcome, count)
        select date_trunc('hour', minute), event_type, outcome, sum(count)
          from receipt_rollups
         where minute >= ${new Date(from).toISOString()}::timestamptz
           and minute < ${new Date(from + DAY_MS).toISOString()}::timestamptz
         group by 1, 2, 3`);
  }
  say('rollups built');

  if (o.events) {
    // One event per accepted receipt: 2 % dead after 4 attempts, 1 % pending, 1 % discarded, 4 %
    // processed after a retry; every other event succeeded on its first attempt.
    await db.execute(sql`
      insert into events (source, provider, delivery_id, event_type, fingerprint, payload, status, attempts, retried,
                          last_error, created_at, processed_at, dead_at, discarded_at, next_attempt_at)
      select source, provider, delivery_id, event_type, 'fp-' || delivery_id, '{"data":{}}'::jsonb, s.status, s.attempts,
             s.attempts > 1,
             case when s.status in ('dead', 'discarded') then 'notify: downstream answered 503' end,
             received_at,
             case when s.status = 'processed' then received_at + interval '50 ms' end,
             case when s.status = 'dead' then received_at + interval '42 minutes' end,
             case when s.status = 'discarded' then received_at + interval '1 hour' end,
             received_at + interval '2 minutes'
        from receipts,
             lateral (select abs(hashint8(id)::int8) % 100 as x) h,
             lateral (select case when x < 2 then 'dead' when x < 3 then 'pending'
                                  when x < 4 then 'discarded' else 'processed' end as status) s0,
             lateral (select s0.status,
                             case s0.status when 'dead' then 4 when 'pending' then 1 when 'discarded' then 4
                                            else 1 + (x % 20 = 0)::int end as attempts) s
       where outcome = 'accepted'`);
    say('events inserted');
    await db.execute(sql`
      insert into attempts (event_id, attempt, worker, started_at, duration_ms, result, error)
      select e.id, a, 'bench', e.created_at + (a - 1) * interval '2 minutes', 5 + (e.id % 40),
             case when a < e.attempts or e.status = 'pending' then 'transient'
                  when e.status = 'processed' then 'success' else 'transient' end,
             case when a < e.attempts or e.status <> 'processed' then 'notify: downstream answered 503' end
        from events e, generate_series(1, e.attempts) a`);
    say('attempts inserted');
  }
  for (const t of [
    'receipts',
    'latency_rollups',
    'receipt_rollups',
    'receipt_counts_hourly',
    'events',
    'attempts',
  ])
    await db.execute(sql.raw(`vacuum analyze ${t}`));
  const tierRows = Number(
    rowsOf<{ c: number }>(await db.execute(sql`select count(*)::int as c from latency_rollups`))[0]!.c,
  );
  return { tierRows };
}
