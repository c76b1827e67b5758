// A worker process on its own (`npm run worker`). Needs Postgres: PGlite is one process's folder.
import { closeDb, getDb } from '@/lib/db';
import { env } from '@/lib/env';
import { log } from '@/lib/log';
import { createWorker } from '@/lib/runtime';
import { armStopDeadline } from './stop-deadline';

if (!env.DATABASE_URL) {
  console.error(
    'DATABASE_URL: required for a separate worker process (PGlite cannot be shared between processes). ' +
      'With PGlite, keep WORKER_INLINE=true and the web process runs the worker.',
  );
  process.exit(2);
}
await getDb();
const worker = createWorker();
worker.start();
const stop = async (signal: string) => {
  log.info({ signal }, 'worker process stopping');
  // A claim hung on a database that stopped answering would hold the stop forever.
  armStopDeadline();
  await worker.stop();
  await closeDb();
  process.exit(0);
};
process.once('SIGTERM', () => void stop('SIGTERM'));
process.once('SIGINT', () => void stop('SIGINT'));
