import { mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type postgres from 'postgres';
import type { Knobs } from '@/lib/providers/skylight/sandbox/knobs';
import { type Sandbox, startSandbox } from '@/lib/providers/skylight/sandbox/server';
import type { StoredDelivery } from '@/lib/providers/skylight/sandbox/store';
import { delay } from '../helpers/app-process';
import { pgReachable } from '../helpers/scratch-pg';

// Shared pieces of the fault tests (test/faults/*.test.ts): the full/short switch, the app's
// configuration, and the ledger that compares what the provider saw with what the database holds.

/** FAULTS_FULL=1: the long version (`npm run test:faults`); otherwise the short one in `npm test`. */
export const FULL = process.env.FAULTS_FULL === '1';

export const PASSWORD = 'faults-dashboard-password';
export const API_TOKEN = 'faults-api-token-0123456789abcdef';

/** Why this file should not run, or false. */
export async function skipReason(needs: { postgres?: boolean } = {}): Promise<string | false> {
  if (process.env.FAULTS_SKIP === '1') return 'FAULTS_SKIP=1';
  if (needs.postgres && !(await pgReachable())) {
    // `npm run test:faults` must not pass without a database; `npm test` works without Postgres.
    if (FULL) throw new Error('fault tests need Postgres at FAULTS_PG_URL (default 127.0.0.1:5432)');
    return 'no Postgres at FAULTS_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres)';
  }
  return false;
}

const lockPath = (name: string) => path.join(tmpdir(), `skylight-faults-${name}.lock`);

/** A cross-process lock (mkdir is atomic); a lock older than 20 minutes is taken as left by a crash. */
async function acquire(lock: string): Promise<() => void> {
  const end = Date.now() + 40 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      return () => rmSync(lock, { recursive: true, force: true });
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > 20 * 60_000) rmSync(lock, { recursive: true, force: true });
      } catch {}
      if (Date.now() > end) throw new Error(`timed out waiting for ${lock}`);
      await delay(500);
    }
  }
}

/**
 * Takes the file's lock, so two runs on one machine (say `npm test` and `npm run test:faults`) never
 * start the same test, which would collide on its fixed ports. In the full run the files also take
 * turns (the runner starts two at once): each measures rates and memory on a 2-core machine, and a
 * neighbour's load would distort them. Returns the release.
 */
export async function takeTurn(name: string): Promise<() => void> {
  const serial = FULL ? await acquire(lockPath('serial')) : () => {};
  const own = await acquire(lockPath(name));
  return () => {
    own();
    serial();
  };
}

/** The app's environment against a provider (the in-test sandbox or a fake) and a database. */
export function appEnv(o: {
  databaseUrl?: string;
  apiUrl: string;
  apiKey: string;
  secret: string;
  notifyUrl?: string;
  extra?: Record<string, string>;
}): Record<string, string | undefined> {
  return {
    DATABASE_URL: o.databaseUrl,
    SKYLIGHT_API_KEY: o.apiKey,
    SKYLIGHT_API_URL: o.apiUrl,
    SKYLIGHT_WEBHOOK_SECRET: o.secret,
    NOTIFY_WEBHOOK_URL: o.notifyUrl,
    DASHBOARD_PASSWORD: PASSWORD,
    DASHBOARD_API_TOKEN: API_TOKEN,
    LOG_LEVEL: 'warn',
    WORKER_BACKOFF_MS: '50',
    WORKER_CONCURRENCY: '16',
    ...o.extra,
  };
}

/** The in-test SkyLight: a sandbox on `port` with one webhook pointing at the app's receiver. */
export async function startProvider(o: { port: number; appPort: number; knobs: Partial<Knobs> }) {
  const sandbox = await startSandbox({ port: o.port, knobs: o.knobs, deliveryTimeoutMs: 10_000 });
  const webhook = await sandbox.core.createWebhook({
    name: 'faults',
    url: `http://127.0.0.1:${o.appPort}/api/webhooks/skylightchat`,
  });
  return { sandbox, webhook };
}

/** The app's environment for a database, wired to that provider (API, signing secret, downstream). */
export function providerEnv(p: { sandbox: Sandbox; webhook: { secret: string } }, databaseUrl?: string) {
  return appEnv({
    databaseUrl,
    apiUrl: p.sandbox.apiUrl,
    apiKey: p.sandbox.apiKey,
    secret: p.webhook.secret,
    notifyUrl: p.sandbox.downstreamUrl,
  });
}

export function sandboxIdle(sandbox: Sandbox): boolean {
  const s = sandbox.core.sender.stats();
  return s.inFlight + s.queued + s.retriesPending === 0;
}

/** Every attempt the sandbox logged for a webhook (one row per POST). */
export async function deliveryLog(sandbox: Sandbox, webhookId: number): Promise<StoredDelivery[]> {
  return (await sandbox.core.store.listDeliveries(webhookId, { page: 1, perPage: 10_000_000 })).items;
}

/**
 * Emits `total` events at `rate` per second through the sandbox (exact count, paced in small steps),
 * holding back while its send queue is long (the app is down and attempts pile up).
 */
export async function emitPaced(sandbox: Sandbox, total: number, rate: number, timeoutMs: number) {
  const t0 = performance.now();
  let emitted = 0;
  while (emitted < total) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`emitted only ${emitted}/${total} in time`);
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
    if (due > emitted && sandbox.core.sender.stats().queued < 2000) {
      await sandbox.core.sender.emit(due - emitted);
      emitted = due;
    }
    await delay(20);
  }
  return (performance.now() - t0) / 1000;
}

export async function eventCounts(sql: postgres.Sql): Promise<Record<string, number>> {
  const rows = await sql<{ status: string; n: number }[]>`
    select status, count(*)::int as n from events group by status`;
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

export async function queueDrained(sql: postgres.Sql): Promise<boolean> {
  const [r] = await sql<{ n: number }[]>`
    select count(*)::int as n from events where status in ('pending', 'processing')`;
  return r!.n === 0;
}

export type Ledger = {
  /** Distinct delivery ids the provider sent. */
  unique: number;
  /** POSTs the provider made (retries and duplicates included). */
  posts: number;
  /** POSTs answered 2xx. */
  acked: number;
  /** POSTs not answered 2xx (connection refused or reset, 503, timeout). */
  unacked: number;
  /** Distinct delivery ids that had at least one unacknowledged POST. */
  retriedIds: number;
  /** Delivery ids the provider never got a 2xx for: lost at the provider's end. */
  neverAcked: string[];
  /** 2xx answers without a 200 receipt behind them (counted per delivery id). */
  ackedWithoutReceipt: string[];
  /** Acknowledged delivery ids with no event (directly or through a fingerprint duplicate). */
  ackedWithoutEvent: string[];
  events: number;
  processed: number;
  dead: number;
  stuck: number;
  effects: number;
  processedWithoutEffect: number;
  effectWithoutProcessed: number;
  duplicateEffects: number;
  /** Attempts whose error shows a second apply hitting the effects key. */
  doubleApplyErrors: number;
  /** Events with more than one successful attempt. */
  multiSuccess: number;
  leaseLost: number;
  /** Claims that ended without a result: the worker holding them was killed mid-handler. */
  interruptedClaims: number;
  deadNotInjected: string[];
  injectedNotDead: string[];
};

/** Compares the provider's delivery log with the database (receipts, events, effects, attempts). */
export async function ledger(sql: postgres.Sql, log: StoredDelivery[]): Promise<Ledger> {
  const ackedPerId = new Map<string, number>();
  const failedIds = new Set<string>();
  let acked = 0;
  let unacked = 0;
  for (const row of log) {
    const ok =
      row.responseStatusCode !== null && row.responseStatusCode >= 200 && row.responseStatusCode < 300;
    if (row.status === 'pending') continue;
    if (ok) {
      acked++;
      ackedPerId.set(row.deliveryId, (ackedPerId.get(row.deliveryId) ?? 0) + 1);
    } else {
      unacked++;
      failedIds.add(row.deliveryId);
    }
  }
  const ids = new Set(log.map((r) => r.deliveryId));

  const receiptRows = await sql<{ delivery_id: string; n: number; with_event: number }[]>`
    select delivery_id, count(*)::int as n, count(event_id)::int as with_event
      from receipts where http_status = 200 and delivery_id is not null group by delivery_id`;
  const receiptsPerId = new Map(receiptRows.map((r) => [r.delivery_id, r]));
  const eventIds = new Set(
    (await sql<{ delivery_id: string }[]>`select delivery_id from events`).map((r) => r.delivery_id),
  );

  const ackedWithoutReceipt: string[] = [];
  const ackedWithoutEvent: string[] = [];
  for (const [id, n] of ackedPerId) {
    const r = receiptsPerId.get(id);
    if (!r || r.n < n) ackedWithoutReceipt.push(id);
    if (!eventIds.has(id) && !(r && r.with_event > 0)) ackedWithoutEvent.push(id);
  }

  const [c] = await sql<
    {
      events: number;
      processed: number;
      dead: number;
      stuck: number;
      effects: number;
      processed_without_effect: number;
      effect_without_processed: number;
      duplicate_effects: number;
      double_apply_errors: number;
      multi_success: number;
      lease_lost: number;
      interrupted: number;
    }[]
  >`
    select
      (select count(*)::int from events) as events,
      (select count(*)::int from events where status = 'processed') as processed,
      (select count(*)::int from events where status = 'dead') as dead,
      (select count(*)::int from events where status in ('pending', 'processing')) as stuck,
      (select count(*)::int from effects) as effects,
      (select count(*)::int from events e where e.status = 'processed'
          and not exists (select 1 from effects f where f.event_id = e.id)) as processed_without_effect,
      (select count(*)::int from effects f
          where not exists (select 1 from events e where e.id = f.event_id and e.status = 'processed'))
        as effect_without_processed,
      (select count(*)::int from (select event_id from effects group by event_id having count(*) > 1) x)
        as duplicate_effects,
      (select count(*)::int from attempts
          where error ilike '%effects%' or error ilike '%duplicate key%') as double_apply_errors,
      (select count(*)::int from (select event_id from attempts where result in ('success', 'skipped_stale')
          group by event_id having count(*) > 1) x) as multi_success,
      (select count(*)::int from attempts where result = 'lease_lost') as lease_lost,
      (select coalesce(sum(interruptions), 0)::int from events) as interrupted`;

  // The sandbox's injected failures: invalid booking times (permanent) and notifications the
  // downstream fails forever ([flaky:1000:…]). Flaky ones that recover after 1–2 tries are not dead.
  const injection = await sql<{ delivery_id: string; dead: boolean; injected: boolean }[]>`
    select delivery_id, status = 'dead' as dead,
           (payload::text like '%tomorrow 7pm%' or payload::text like '%[flaky:1000:%') as injected
      from events where status = 'dead'
         or payload::text like '%tomorrow 7pm%' or payload::text like '%[flaky:1000:%'`;

  return {
    unique: ids.size,
    posts: log.length,
    acked,
    unacked,
    retriedIds: failedIds.size,
    neverAcked: [...ids].filter((id) => !ackedPerId.has(id)),
    ackedWithoutReceipt,
    ackedWithoutEvent,
    events: c!.events,
    processed: c!.processed,
    dead: c!.dead,
    stuck: c!.stuck,
    effects: c!.effects,
    processedWithoutEffect: c!.processed_without_effect,
    effectWithoutProcessed: c!.effect_without_processed,
    duplicateEffects: c!.duplicate_effects,
    doubleApplyErrors: c!.double_apply_errors,
    multiSuccess: c!.multi_success,
    leaseLost: c!.lease_lost,
    interruptedClaims: c!.interrupted,
    deadNotInjected: injection.filter((r) => r.dead && !r.injected).map((r) => r.delivery_id),
    injectedNotDead: injection.filter((r) => !r.dead && r.injected).map((r) => r.delivery_id),
  };
}

/** The ledger's invariants; every list and counter named here must be empty or zero. */
export function ledgerProblems(l: Ledger): Record<string, unknown> {
  const p: Record<string, unknown> = {};
  const check = (name: string, v: number | string[]) => {
    if (Array.isArray(v) ? v.length > 0 : v !== 0) p[name] = Array.isArray(v) ? v.slice(0, 5) : v;
  };
  check('neverAcked', l.neverAcked);
  check('ackedWithoutReceipt', l.ackedWithoutReceipt);
  check('ackedWithoutEvent', l.ackedWithoutEvent);
  check('stuck', l.stuck);
  check('processedWithoutEffect', l.processedWithoutEffect);
  check('effectWithoutProcessed', l.effectWithoutProcessed);
  check('duplicateEffects', l.duplicateEffects);
  check('doubleApplyErrors', l.doubleApplyErrors);
  check('multiSuccess', l.multiSuccess);
  check('deadNotInjected', l.deadNotInjected);
  check('injectedNotDead', l.injectedNotDead);
  if (l.effects !== l.processed) p.effectsVsProcessed = { effects: l.effects, processed: l.processed };
  return p;
}

/** One line of figures for RELIABILITY.md, printed by each test. */
export function report(name: string, figures: Record<string, unknown>) {
  console.log(`FAULTS ${name} ${JSON.stringify({ full: FULL, ...figures })}`);
}
