// What the database's sessions were doing while a bench measured latencies: pg_stat_activity sampled
// every `everyMs` from a connection of its own, so a slow request can be matched with the
// statements that ran and the waits that held while it was in flight (bench/retention.ts).
import { sql } from 'drizzle-orm';
import { openDb, rowsOf } from '@/db/client';

/** One active session at one sample. `at`: performance.now() of this process when the sample was read. */
export type ActiveSession = {
  at: number;
  pid: number;
  wait: string | null;
  /** How long its current statement had run, ms. */
  ms: number;
  query: string;
};

export function sampleActivity(url: string, everyMs = 50) {
  const samples: ActiveSession[] = [];
  let stopped = false;
  const done = (async () => {
    const h = await openDb({ url, max: 1 });
    try {
      while (!stopped) {
        const res = await h.db.execute(sql`
          select pid, case when wait_event is null then null else wait_event_type || ':' || wait_event end as wait,
                 extract(epoch from clock_timestamp() - query_start)::float8 * 1000 as ms,
                 left(regexp_replace(query, '\\s+', ' ', 'g'), 90) as query
            from pg_stat_activity
           where datname = current_database() and state = 'active' and pid <> pg_backend_pid()`);
        const at = performance.now();
        for (const r of rowsOf<Omit<ActiveSession, 'at'>>(res)) samples.push({ ...r, at, ms: Number(r.ms) });
        await new Promise((r) => setTimeout(r, everyMs));
      }
    } finally {
      await h.close();
    }
  })();
  return {
    async stop(): Promise<ActiveSession[]> {
      stopped = true;
      await done;
      return samples;
    },
  };
}

/**
 * What the samples show between `from` and `to` (performance.now()): the prune's statements (by the
 * pid that ran them) and every other session's waits and long statements, each with how many samples
 * saw it and its longest run, most seen first.
 */
export function summarise(samples: ActiveSession[], from: number, to: number, prunePid: number) {
  const seen = new Map<string, { n: number; maxMs: number }>();
  for (const s of samples) {
    if (s.at < from || s.at > to) continue;
    const who = s.pid === prunePid ? 'prune' : 'app';
    // An app statement is named only when it waited or ran long: the short ones are the load itself.
    if (who === 'app' && s.wait === null && s.ms < 100) continue;
    const key = `${who} ${s.wait ?? 'cpu'} ${s.query}`;
    const e = seen.get(key) ?? { n: 0, maxMs: 0 };
    e.n++;
    e.maxMs = Math.max(e.maxMs, Math.round(s.ms));
    seen.set(key, e);
  }
  return [...seen].sort((a, b) => b[1].n - a[1].n).map(([k, v]) => `${v.n}× ≤${v.maxMs} ms ${k}`);
}

/** The longest event-loop delay of an interval ending at `at` (performance.now()), ms. */
export type LoopDelay = { at: number; maxMs: number };

/**
 * The app's event-loop delay, read from its /metrics every `everyMs` (prom-client resets its
 * histogram at each read, so each `nodejs_eventloop_lag_max_seconds` covers the interval since the last).
 */
export function sampleAppLoop(metricsUrl: string, everyMs = 250) {
  const samples: LoopDelay[] = [];
  let stopped = false;
  const done = (async () => {
    // The first read covers everything since whoever read /metrics last: not kept.
    for (let first = true; !stopped; first = false) {
      const text = await (await fetch(metricsUrl)).text();
      const m = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text);
      if (m && !first) samples.push({ at: performance.now(), maxMs: Number(m[1]) * 1000 });
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await done;
      return samples;
    },
  };
}

/**
 * This process's own event-loop delay (the load generator's): a timer every `everyMs`, each lateness
 * over 20 ms kept. A late load generator sends late, and the open loop counts that as latency.
 */
export function watchOwnLoop(everyMs = 10) {
  const late: LoopDelay[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const lateMs = now - last - everyMs;
    if (lateMs > 20) late.push({ at: now, maxMs: lateMs });
    last = now;
  }, everyMs);
  return () => {
    clearInterval(timer);
    return late;
  };
}

/** The longest delay among the intervals that overlap [from, to]; an interval ends at `at` and began `everyMs` (or its delay) before. */
export function longestDelay(delays: LoopDelay[], from: number, to: number, everyMs: number) {
  let max = 0;
  for (const d of delays)
    if (d.at >= from && d.at - Math.max(everyMs, d.maxMs) <= to) max = Math.max(max, d.maxMs);
  return Math.round(max);
}
