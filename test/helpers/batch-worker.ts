// A worker in its own process, for test/worker-batch.test.ts to kill mid-batch:
//   node --import tsx test/helpers/batch-worker.ts <postgres url> <worker id>
import { openDb } from '@/db/client';
import { Worker } from '@/lib/worker/worker';

const [url, id] = process.argv.slice(2);
if (!url || !id) throw new Error('usage: batch-worker.ts <postgres url> <worker id>');
const h = await openDb({ url, max: 2, migrate: false, prepared: true });
new Worker(async () => h.db, {
  concurrency: 1,
  batchSize: 16,
  maxAttempts: 5,
  backoffMs: 10,
  pollMs: 50,
  leaseMs: 1500,
  id,
  context: () => ({ notifyUrl: null }),
}).start();
console.log('started');
