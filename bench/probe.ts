// One peer, one fixed rate, with a latency timeline: for profiling a single server between full runs.
//   npx tsx bench/probe.ts --url http://127.0.0.1:4303/api/webhooks/skylightchat --secret S \
//     --rate 1900 --seconds 6 [--mix accept|duplicates|bad-signatures] [--offset N] [--connect 32]
// The timeline prints the worst latency per 250 ms of schedule, which shows periodic stalls.
import { parseArgs } from 'node:util';
import { openLoop } from './load';
import { Feed, type Mix } from './payloads';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    secret: { type: 'string' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '6' },
    mix: { type: 'string', default: 'accept' },
    offset: { type: 'string', default: String(Date.now() % 1e9) },
    warm: { type: 'string', default: '200' },
    connect: { type: 'string', default: '0' },
  },
});
if (!values.url || !values.secret) throw new Error('--url and --secret are required');
const rate = Number(values.rate);
const ms = Number(values.seconds) * 1000;
const feed = new Feed(values.secret, values.mix as Mix, Number(values.offset) * 1000);

await openLoop(values.url, Number(values.warm), 1000, feed.take(Number(values.warm)));
await new Promise((r) => setTimeout(r, 500));
const timeline: number[] = [];
const shots = feed.take(Math.round((rate * ms) / 1000));
const connect = feed.take(Number(values.connect));
const r = await openLoop(
  values.url,
  rate,
  ms,
  shots,
  (at, lat) => {
    const slot = Math.floor(at / 250);
    timeline[slot] = Math.max(timeline[slot] ?? 0, lat);
  },
  connect,
);
console.log(
  `${rate}/s for ${ms / 1000} s: ${r.throughput} ok/s, p50 ${r.p50} p90 ${r.p90} p99 ${r.p99} max ${r.max} ms, errors ${r.errors}`,
);
console.log(`worst per 250 ms: ${timeline.map((v) => Math.round(v ?? 0)).join(' ')}`);
