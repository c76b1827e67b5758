// The payload-shape learner's throughput and run length (issue 17): `npx tsx bench/payload-learner.ts
// [events]` on PGlite, or with TEST_DATABASE_URL set on a scratch Postgres database.
import { events } from '@/db/schema';
import { learnPayloadShapes } from '@/lib/payload/learner';
import { openTestDb } from '../test/helpers/db';

const N = Number(process.argv[2] ?? 5000);
const TYPES = ['contact.created', 'contact.updated', 'message.received', 'booking.created'];
const db = await openTestDb();
try {
  for (let i = 0; i < N; i += 500) {
    await db.db.insert(events).values(
      Array.from({ length: Math.min(500, N - i) }, (_, j) => {
        const k = i + j;
        const type = TYPES[k % TYPES.length] as string;
        const data = {
          contact: { id: k, email: `c${k}@x.test`, tags: ['a', 'b'], address: { city: 'x', zip: '1' } },
        };
        return {
          source: 'skylightchat',
          provider: 'skylight',
          deliveryId: `bench-${k}`,
          eventType: type,
          payload: { event: type, delivery_id: `bench-${k}`, timestamp: '2026-11-30T12:00:00Z', data },
        };
      }),
    );
  }
  const runs: number[] = [];
  let learned = 0;
  const start = performance.now();
  for (;;) {
    const t = performance.now();
    const r = await learnPayloadShapes(db.db, { settleMs: 0 });
    if (r.learned === 0) break;
    runs.push(performance.now() - t);
    learned += r.learned;
  }
  const total = performance.now() - start;
  runs.sort((a, b) => a - b);
  console.log(
    `${db.url ? 'postgres' : 'pglite'}: ${learned} events in ${runs.length} runs, ${Math.round(total)} ms, ` +
      `${Math.round(learned / (total / 1000))} events/s; run p50 ${Math.round(runs[runs.length >> 1] ?? 0)} ms, ` +
      `max ${Math.round(runs[runs.length - 1] ?? 0)} ms`,
  );
} finally {
  await db.close();
}
