import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RollupBuffer } from '@/lib/metrics/rollup-buffer';
import type { ProviderName } from '@/lib/providers/registry';
import type { BodyBudgetLimits } from '@/lib/receiver/body-budget';
import type { ForensicsLimits } from '@/lib/receiver/forensics-queue';
import type { GroupCommit } from '@/lib/receiver/group-commit';
import { fromIncoming, sendNode } from '@/lib/receiver/node-request';
import type { BackgroundRecorder } from '@/lib/receiver/recorder';
import type { RefusalLimits } from '@/lib/receiver/refusals';
import { createReceiverStack, webhookSlug } from '@/lib/receiver/stack';
import type { SecretBox } from '@/lib/sources/crypto';
import { type BuiltInSource, SourceDirectory } from '@/lib/sources/directory';
import { Worker, type WorkerOptions } from '@/lib/worker/worker';
import { openTestDb, type TestDb } from './db';

export type ReceiverServer = {
  /** The default SkyLight source's URL (`/api/webhooks/skylightchat`). */
  url: string;
  /** Any source's URL on this server: `${baseUrl}/<slug>`. */
  baseUrl: string;
  db: TestDb;
  commit: GroupCommit;
  recorder: BackgroundRecorder;
  rollups: RollupBuffer;
  sources: SourceDirectory;
  worker: Worker | null;
  close: () => Promise<void>;
};

type Secrets = string[] | (() => string[]);

/**
 * The real receiver stack (lib/receiver/stack.ts, as the app assembles it) and worker over real HTTP
 * on 127.0.0.1, on a fresh test database. Every `/api/webhooks/<slug>` path is served; `secrets`
 * configure the default SkyLight source (`skylightchat`) and `slySecrets` the default Sly source.
 */
export async function startReceiverServer(
  opts: {
    secrets: Secrets;
    slySecrets?: Secrets;
    box?: SecretBox | null;
    maxBodyBytes?: number;
    worker?: Partial<WorkerOptions> | false;
    db?: TestDb;
    maxAgeMs?: number;
    refusalLimits?: RefusalLimits;
    forensicsLimits?: ForensicsLimits;
    bodyBudget?: BodyBudgetLimits;
    deadlineMs?: number;
  } = { secrets: [] },
): Promise<ReceiverServer> {
  const db = opts.db ?? (await openTestDb());
  const getDb = async () => db.db;
  const worker =
    opts.worker === false
      ? null
      : new Worker(async () => db.prepared, {
          concurrency: 4,
          maxAttempts: 5,
          backoffMs: 20,
          pollMs: 50,
          context: () => ({ notifyUrl: null }),
          ...opts.worker,
        });
  const builtIn = (slug: string, provider: ProviderName, secrets: Secrets): BuiltInSource => ({
    slug,
    provider,
    seedLabel: 'TEST_SECRET',
    seeds: async () => (typeof secrets === 'function' ? secrets() : secrets),
  });
  const defaults = new Map<string, BuiltInSource>([
    ['skylightchat', builtIn('skylightchat', 'skylight', opts.secrets)],
  ]);
  if (opts.slySecrets) defaults.set('sly', builtIn('sly', 'sly', opts.slySecrets));
  const box = opts.box ?? null;
  const sources = new SourceDirectory({ db: getDb, box, builtIn: defaults });
  const stack = createReceiverStack({
    db: async () => db.prepared,
    sources,
    maxBodyBytes: opts.maxBodyBytes ?? 1_048_576,
    maxAgeMs: opts.maxAgeMs ?? 72 * 3_600_000,
    maxInFlight: db.kind === 'pglite' ? 1 : 4,
    deadlineMs: opts.deadlineMs,
    refusalLimits: opts.refusalLimits,
    forensicsLimits: opts.forensicsLimits,
    bodyBudget: opts.bodyBudget,
    onAccepted: () => worker?.nudge(),
  });
  const server: Server = createServer((req, res) => {
    const startedAt = performance.now();
    const slug = req.method === 'POST' && req.url ? webhookSlug(req.url) : null;
    if (slug === null) {
      res.writeHead(404).end();
      return;
    }
    stack.handle(slug, fromIncoming(req, startedAt)).then((r) => sendNode(res, r, r.bodyUnread === true));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  worker?.start();
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}/api/webhooks`;
  return {
    url: `${baseUrl}/skylightchat`,
    baseUrl,
    db,
    commit: stack.commit,
    recorder: stack.recorder,
    rollups: stack.rollups,
    sources,
    worker,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await worker?.stop(2000);
      await stack.drain();
      if (!opts.db) await db.close();
    },
  };
}
