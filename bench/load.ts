import http from 'node:http';
import type { Shot } from './payloads';

export type LoadResult = {
  /** Offered rate (open model) or null (closed loop). */
  rate: number | null;
  durationS: number;
  sent: number;
  ok: number;
  errors: number;
  errorKinds: Record<string, number>;
  /** Completed with the expected status, per second of the schedule. */
  throughput: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
};

const TIMEOUT_MS = 5000;

/** Nearest-rank percentiles of latencies (ms), rounded to 0.01 ms. */
export function stats(lat: number[]) {
  if (lat.length === 0) return { p50: null, p90: null, p99: null, max: null };
  const s = Float64Array.from(lat).sort();
  const q = (p: number) => round(s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!);
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: round(s[s.length - 1]!) };
}
const round = (v: number) => Math.round(v * 100) / 100;

type Fire = (shot: Shot, done: (error: string | null) => void) => void;

function firer(url: URL, agent: http.Agent): Fire {
  return (shot, done) => {
    let finished = false;
    const finish = (e: string | null) => {
      if (finished) return;
      finished = true;
      done(e);
    };
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: shot.headers,
      },
      (res) => {
        res.resume();
        res.on('end', () => finish(res.statusCode === shot.expect ? null : `http_${res.statusCode}`));
        res.on('error', () => finish('response_error'));
      },
    );
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) =>
      finish(err.message === 'timeout' ? 'timeout' : (err.code ?? 'error')),
    );
    req.end(shot.body);
  };
}

/**
 * Open-model load: request i is sent at t0 + i/rate whatever happened to earlier ones, and its
 * latency runs from that scheduled time, so a stalled server (or a stalled generator) shows up as
 * latency instead of silently lowering the offered load (no coordinated omission).
 *
 * Like wrk2, it opens its connections before the clock starts: the `connect` requests (real signed
 * deliveries, not measured) go out together and their keep-alive sockets carry the measured load. A
 * sender at a steady rate holds its connections open; without this every run began by opening
 * sockets under load, and its first 250 ms measured TCP setup more than the server (the slower a
 * server's answer, the more sockets the generator opened, so the penalty was not even the same).
 */
export async function openLoop(
  url: string,
  rate: number,
  durationMs: number,
  shots: Shot[],
  /** Sees each success: its scheduled time from the start (ms) and its latency (ms). */
  observe?: (atMs: number, latencyMs: number) => void,
  connect: Shot[] = [],
): Promise<LoadResult> {
  const target = new URL(url);
  const total = Math.min(shots.length, Math.round((rate * durationMs) / 1000));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const fire = firer(target, agent);
  await Promise.all(connect.map((shot) => new Promise<void>((done) => fire(shot, () => done()))));
  if (connect.length > 0) await new Promise((r) => setTimeout(r, 100));
  const interval = 1000 / rate;
  const lat: number[] = [];
  const errorKinds: Record<string, number> = {};
  let completed = 0;
  let next = 0;
  const t0 = performance.now() + 5;
  return new Promise((resolve) => {
    const end = () => {
      clearTimeout(deadline);
      agent.destroy();
      const unfinished = total - completed;
      if (unfinished > 0) errorKinds.unfinished = unfinished;
      const errors = Object.values(errorKinds).reduce((a, b) => a + b, 0);
      resolve({
        rate,
        durationS: durationMs / 1000,
        sent: next,
        ok: lat.length,
        errors,
        errorKinds,
        throughput: Math.round(lat.length / (durationMs / 1000)),
        ...stats(lat),
      });
    };
    const deadline = setTimeout(end, durationMs + TIMEOUT_MS + 1000);
    const tick = () => {
      const now = performance.now();
      while (next < total && t0 + next * interval <= now) {
        const scheduled = t0 + next * interval;
        fire(shots[next]!, (e) => {
          if (e === null) {
            lat.push(performance.now() - scheduled);
            observe?.(scheduled - t0, performance.now() - scheduled);
          } else errorKinds[e] = (errorKinds[e] ?? 0) + 1;
          if (++completed === total) end();
        });
        next++;
      }
      if (next < total) setTimeout(tick, 1);
    };
    setTimeout(tick, 5);
  });
}

/** Closed loop: `connections` senders, each sending its next request when the last one answers. */
export async function closedLoop(
  url: string,
  connections: number,
  durationMs: number,
  nextShot: () => Shot,
): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const fire = firer(new URL(url), agent);
  const lat: number[] = [];
  const errorKinds: Record<string, number> = {};
  let sent = 0;
  const stopAt = performance.now() + durationMs;
  const sender = async () => {
    while (performance.now() < stopAt) {
      const t = performance.now();
      sent++;
      const e = await new Promise<string | null>((r) => fire(nextShot(), r));
      if (e === null) lat.push(performance.now() - t);
      else errorKinds[e] = (errorKinds[e] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: connections }, sender));
  agent.destroy();
  return {
    rate: null,
    durationS: durationMs / 1000,
    sent,
    ok: lat.length,
    errors: Object.values(errorKinds).reduce((a, b) => a + b, 0),
    errorKinds,
    throughput: Math.round(lat.length / (durationMs / 1000)),
    ...stats(lat),
  };
}
