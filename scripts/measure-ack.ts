// Sends N signed deliveries one after another to a running receiver and prints ack-time percentiles
// as the client saw them. Usage: tsx scripts/measure-ack.ts --url URL --secret S [--count 1000]
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { sign } from '@/lib/providers/skylight/signature';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:3000/api/webhooks/skylightchat' },
    secret: { type: 'string' },
    count: { type: 'string', default: '1000' },
  },
});
if (!values.secret) {
  console.error('--secret: required (the receiver’s SKYLIGHT_WEBHOOK_SECRET)');
  process.exit(2);
}
const count = Number(values.count);
const times: number[] = [];
let contact = 1_000_000 + Math.floor(Math.random() * 1e6);
for (let i = 0; i < count + 20; i++) {
  const id = randomUUID();
  const body = JSON.stringify({
    event: 'contact.created',
    delivery_id: id,
    timestamp: new Date().toISOString(),
    data: { contact: { id: contact++, name: `Load ${i}`, email: `load${i}@example.test`, tags: ['bench'] } },
  });
  const t0 = performance.now();
  const res = await fetch(values.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-skylight-delivery': id,
      'x-skylight-signature': sign(body, values.secret),
    },
    body,
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`delivery ${i}: HTTP ${res.status}`);
  // The first 20 warm the connection and the JIT.
  if (i >= 20) times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const q = (p: number) => times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)]!.toFixed(2);
console.log(
  `${count} sequential signed deliveries to ${values.url}: p50 ${q(0.5)} ms, p95 ${q(0.95)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms`,
);
