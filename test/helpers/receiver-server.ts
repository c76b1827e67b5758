import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RollupBuffer } from '@/lib/metrics/rollup-buffer';
import { GroupCommit } from '@/lib/receiver/group-commit';
import { fromIncoming, sendNode } from '@/lib/receiver/node-request';
import { receive } from '@/lib/receiver/receive';
import { BackgroundRecorder } from '@/lib/receiver/recorder';
import { type RefusalLimits, RefusalSampler } from '@/lib/receiver/refusals';
import { Worker, type WorkerOptions } from '@/lib/worker/worker';
import { openTestDb, type TestDb } from './db';

export type ReceiverServer = {
  url: string;
  db: TestDb;
  commit: GroupCommit;
  recorder: BackgroundRecorder;
  rollups: RollupBuffer;
  worker: Worker | null;
  close: () => Promise<void>;
};

/**
 * The real receiver and worker over real HTTP on 127.0.0.1, on a fresh test database. The path is
 * the app's (`/api/webhooks/skylightchat`) so senders need no special casing.
 */
export async function startReceiverServer(
  opts: {
    secrets: string[] | (() => string[]);
    maxBodyBytes?: number;
    worker?: Partial<WorkerOptions> | false;
    db?: TestDb;
    maxAgeMs?: number;
    refusalLimits?: RefusalLimits;
    deadlineMs?: number;
  } = { secrets: [] },
): Promise<ReceiverServer> {
  const db = opts.db ?? (await openTestDb());
  const getDb = async () => db.db;
  const commit = new GroupCommit(getDb, {
    maxInFlight: db.kind === 'pglite' ? 1 : 4,
    deadlineMs: opts.deadlineMs,
  });
  const recorder = new BackgroundRecorder(getDb);
  const rollups = new RollupBuffer();
  const worker =
    opts.worker === false
      ? null
      : new Worker(getDb, {
          concurrency: 4,
          maxAttempts: 5,
          backoffMs: 20,
          pollMs: 50,
          context: () => ({ notifyUrl: null }),
          ...opts.worker,
        });
  const deps = {
    secrets: () => (typeof opts.secrets === 'function' ? opts.secrets() : opts.secrets),
    maxBodyBytes: opts.maxBodyBytes ?? 1_048_576,
    commit,
    recorder,
    refusals: new RefusalSampler(opts.refusalLimits),
    maxAgeMs: opts.maxAgeMs ?? 72 * 3_600_000,
    rollups,
    onAccepted: () => worker?.nudge(),
  };
  const server: Server = createServer((req, res) => {
    const startedAt = performance.now();
    if (req.method !== 'POST' || req.url !== '/api/webhooks/skylightchat') {
      res.writeHead(404).end();
      return;
    }
    receive(fromIncoming(req, startedAt), deps).then((r) => sendNode(res, r, r.status === 413));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  worker?.start();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/webhooks/skylightchat`,
    db,
    commit,
    recorder,
    rollups,
    worker,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await worker?.stop(2000);
      await commit.drain();
      await recorder.flush();
      if (!opts.db) await db.close();
    },
  };
}
