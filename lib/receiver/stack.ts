import type { Db } from '@/db/client';
import { SOURCE_SLUG_PATTERN } from '@/db/schema';
import { errorBody } from '@/lib/errors';
import { log } from '@/lib/log';
import { RollupBuffer } from '@/lib/metrics/rollup-buffer';
import type { SourceDirectory } from '@/lib/sources/directory';
import { SecretUsage } from '@/lib/sources/usage';
import { BodyBudget, type BodyBudgetLimits, bodyBudgetLimits } from './body-budget';
import { type ForensicsLimits, ForensicsQueue } from './forensics-queue';
import { GroupCommit } from './group-commit';
import { type ReceiverDeps, type ReceiverTarget, receive } from './receive';
import { BackgroundRecorder } from './recorder';
import { type RefusalLimits, RefusalSampler } from './refusals';
import type { ReceiverRequest, ReceiverResponse } from './types';
import { LOOKUP_DEADLINE_MS, within } from './within';

export type ReceiverStackOptions = {
  db: () => Promise<Db>;
  sources: SourceDirectory;
  maxBodyBytes: number;
  maxAgeMs: number;
  /** Transactions in flight at once: 1 for PGlite (one connection). */
  maxInFlight: number;
  fingerprintHours?: number;
  deadlineMs?: number;
  /** How long a source lookup may take before the delivery is answered 503 (./within.ts). */
  lookupDeadlineMs?: number;
  refusalLimits?: RefusalLimits;
  /** Default: bodyBudgetLimits(maxBodyBytes). */
  bodyBudget?: BodyBudgetLimits;
  forensicsLimits?: ForensicsLimits;
  onAccepted?: ReceiverDeps['onAccepted'];
};

export type ReceiverStack = {
  commit: GroupCommit;
  recorder: BackgroundRecorder;
  rollups: RollupBuffer;
  forensics: ForensicsQueue;
  /** Answers `POST /api/webhooks/:slug`, whichever entry point received it. */
  handle(slug: string, req: ReceiverRequest): Promise<ReceiverResponse>;
  /** Writes what is pending (group commit, ack times, refused receipts). */
  drain(): Promise<void>;
};

const WEBHOOK_PATH = /^\/api\/webhooks\/([^/]+)\/?$/;
/** Slugs longer than this are not a source's; the receipt keeps this much of what was asked. */
const SLUG_KEEP = 64;

/** The source slug of a receiver path (`/api/webhooks/<slug>`, query ignored), else null. */
export function webhookSlug(url: string): string | null {
  const path = url.split('?')[0]!;
  const m = WEBHOOK_PATH.exec(path);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return m[1]!;
  }
}

/**
 * The source of ours a provider webhook's URL sends to, or null. With the app's public base URL
 * (APP_PUBLIC_URL) only a URL under it is ours: another deployment's receiver at the same path (a
 * staging host) is not, and its refusals are not our secret's. Without it, the path alone decides.
 */
export function ourSourceOfUrl(url: string, appUrl: string | null): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  const path = u.pathname.replace(/\/+$/, '');
  if (!appUrl) return webhookSlug(path);
  const base = new URL(appUrl.endsWith('/') ? appUrl : `${appUrl}/`);
  const prefix = base.pathname.replace(/\/+$/, '');
  if (u.origin !== base.origin || !path.startsWith(`${prefix}/`)) return null;
  return webhookSlug(path.slice(prefix.length));
}

/**
 * The receiver with everything it writes through, assembled once: the Next route handler, the
 * `npm start` fast path and the tests all call `handle` on a stack built by this function.
 */
export function createReceiverStack(opts: ReceiverStackOptions): ReceiverStack {
  const commit = new GroupCommit(opts.db, {
    maxInFlight: opts.maxInFlight,
    fingerprintHours: opts.fingerprintHours,
    deadlineMs: opts.deadlineMs,
  });
  const recorder = new BackgroundRecorder(opts.db, () => forensics.drain());
  const rollups = new RollupBuffer();
  const forensics = new ForensicsQueue({
    record: (row) => recorder.record(row),
    keyrings: () => opts.sources.forensicKeyrings(),
    limits: opts.forensicsLimits,
  });
  const secretUsage = new SecretUsage(opts.db);
  const deps: ReceiverDeps = {
    maxBodyBytes: opts.maxBodyBytes,
    maxAgeMs: opts.maxAgeMs,
    commit,
    recorder,
    forensics,
    secretUsage,
    refusals: new RefusalSampler(opts.refusalLimits),
    bodies: new BodyBudget(opts.bodyBudget ?? bodyBudgetLimits(opts.maxBodyBytes)),
    rollups,
    onAccepted: opts.onAccepted,
    lookupDeadlineMs: opts.lookupDeadlineMs ?? LOOKUP_DEADLINE_MS,
  };
  return {
    commit,
    recorder,
    rollups,
    forensics,
    handle: async (slug, req) => {
      // A slug is attacker-chosen text: only one a source could have is looked up (no database read,
      // no place in the directory's cache for any other); any other is unknown.
      const clean = slug.replace(/[\x00-\x1f\x7f-\x9f]/g, '').slice(0, SLUG_KEEP);
      let source: ReceiverTarget['source'] = null;
      if (SOURCE_SLUG_PATTERN.test(slug)) {
        // The lookup reads the database for stored sources: down means "retry", not "unknown".
        source = await within(opts.sources.resolve(slug), deps.lookupDeadlineMs, 'source lookup').catch(
          () => 'unavailable' as const,
        );
      }
      return receive(req, { slug: clean || '-', source }, deps).catch((err: unknown): ReceiverResponse => {
        // A failure receive() has no answer for is a bug: the provider retries, the log says what.
        log.error({ err, slug: clean }, 'receiver: request failed');
        return {
          status: 503,
          body: errorBody('unavailable', 'Receiver error, retry later'),
          headers: { 'Retry-After': '5' },
          bodyUnread: true,
        };
      });
    },
    drain: async () => {
      await commit.drain();
      await recorder.flush();
      await secretUsage.flush();
    },
  };
}
