import {
  HEADER_DELIVERY,
  HEADER_EVENT,
  HEADER_SIGNATURE,
  HEADER_TIMESTAMP,
  type KnownEvent,
  PROVIDER_RETRY_DELAYS_MS,
  PROVIDER_TIMEOUT_MS,
} from '../protocol';
import { sign } from '../signature';
import { isoMicro, newDeliveryId, unixSeconds } from './format';
import type { Knobs } from './knobs';
import type { SandboxStore, StoredDelivery, Webhook } from './store';
import { type Shape, World, type WorldEvent } from './world';

export type SandboxLog = {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
};
export const silentLog: SandboxLog = { info: () => {}, warn: () => {} };

export type SenderStats = {
  /** Events generated (each goes to every subscribed active webhook). */
  events: number;
  /** POSTs made, including retries, duplicates and test sends. */
  sent: number;
  /** Attempts answered 2xx. */
  delivered: number;
  /** Attempts that did not get a 2xx within the timeout. */
  failedAttempts: number;
  /** Deliveries that ended `failed`: attempts used up, or dropped because the webhook was disabled. */
  failed: number;
  /** Pending retries dropped because their webhook was disabled. */
  dropped: number;
  duplicates: number;
  retriesPending: number;
  inFlight: number;
  queued: number;
};

export type SenderOptions = {
  store: SandboxStore;
  knobs: () => Knobs;
  /** Current webhooks (cached by the caller; refreshed whenever the API changes one). */
  webhooks: () => Promise<Webhook[]>;
  deliveryTimeoutMs?: number;
  maxInFlight?: number;
  log?: SandboxLog;
};

type Attempt = { row: StoredDelivery; kind: 'normal' | 'duplicate' | 'test' };

/**
 * A loss to reproduce on demand (reconciliation): `reject` signs with a secret the receiver does not
 * know, so it answers 400 on every attempt; `drop` never lets the request reach the receiver (a wrong
 * URL, a network drop) and logs the attempt failed with no response. Both last until the provider
 * gives up, unless `attempts` limits them to the first attempts.
 */
export const LOSS_KINDS = ['reject', 'drop'] as const;
export type LossKind = (typeof LOSS_KINDS)[number];
type Loss = { kind: LossKind; attempts: number };

/** The delivery chains a loss was planted on, for a test or an operator to check against. */
export type PlantedLoss = { webhookId: number; deliveryId: string; eventType: string; kind: LossKind };

export const DROPPED_REASON = 'sandbox: dropped before reaching the receiver';
const WRONG_SECRET = 'sandbox-wrong-secret-for-reconciliation';

export const DISABLED_REASON = 'webhook disabled: pending retry dropped';
const RESPONSE_BODY_KEEP = 1000;
/** Generation pauses while this many attempts wait for a free connection (backpressure). */
const QUEUE_LIMIT_FACTOR = 4;

/** Serialises one delivery body; `timestamp` is the event time, so it is identical across retries. */
export function buildEnvelope(ev: WorldEvent, shape: Shape, deliveryId: string): string {
  const timestamp = shape === 'A' ? isoMicro(ev.at) : unixSeconds(ev.at);
  return JSON.stringify({ event: ev.type, delivery_id: deliveryId, timestamp, data: ev.data[shape] });
}

/**
 * The delivery side of the sandbox: generates events at the configured rate, POSTs them signed to
 * every active subscribed webhook, logs every attempt, and retries failures on SkyLight's 2/10/30
 * minute schedule divided by the time scale (provider-contract.md §3).
 */
export class Sender {
  readonly world = new World();
  private readonly timers = new Map<number, NodeJS.Timeout>();
  /** Planted losses by delivery-log row id; handed on to each retry (in memory: lost on restart). */
  private readonly losses = new Map<number, Loss>();
  private readonly queue: Attempt[] = [];
  private readonly active = new Set<Promise<void>>();
  private readonly timeoutMs: number;
  private readonly maxInFlight: number;
  private readonly log: SandboxLog;
  private ticker: NodeJS.Timeout | null = null;
  private credit = 0;
  private lastTick = 0;
  private stopped = false;
  private counts = {
    events: 0,
    sent: 0,
    delivered: 0,
    failedAttempts: 0,
    failed: 0,
    dropped: 0,
    duplicates: 0,
  };

  constructor(private readonly opts: SenderOptions) {
    this.timeoutMs = opts.deliveryTimeoutMs ?? PROVIDER_TIMEOUT_MS;
    this.maxInFlight = opts.maxInFlight ?? 128;
    this.log = opts.log ?? silentLog;
  }

  stats(): SenderStats {
    return {
      ...this.counts,
      retriesPending: this.timers.size,
      inFlight: this.active.size,
      queued: this.queue.length,
    };
  }

  /** Starts streaming `knobs().rate` events per second (re-read on every tick). */
  start() {
    if (this.ticker || this.stopped) return;
    this.lastTick = performance.now();
    const tick = () => {
      const now = performance.now();
      const { rate, burst } = this.opts.knobs();
      const backlogged = this.queue.length > this.maxInFlight * QUEUE_LIMIT_FACTOR;
      // Credit does not pile up while idle or backlogged: the rate is a ceiling, not a debt.
      this.credit = backlogged
        ? 0
        : Math.min(this.credit + ((now - this.lastTick) / 1000) * rate, burst + rate / 2);
      this.lastTick = now;
      const n = Math.floor(this.credit / burst) * burst;
      this.credit -= n;
      if (n > 0) void this.emit(n).catch((err) => this.log.warn({ err }, 'sandbox: emit failed'));
      const interval = rate > 0 ? Math.min(Math.max((burst / rate) * 1000, 5), 250) : 250;
      this.ticker = setTimeout(tick, interval);
      this.ticker.unref();
    };
    tick();
  }

  /** Generates `count` events now and queues their deliveries; returns the number of deliveries. */
  async emit(count: number, only?: KnownEvent): Promise<number> {
    const k = this.opts.knobs();
    const hooks = (await this.opts.webhooks()).filter((w) => w.isActive);
    let queued = 0;
    for (let i = 0; i < count; i++) {
      const ev = this.world.next(new Date(Date.now() + k.skewMs), k.failures, only);
      if (k.mutedEvents.includes(ev.type)) continue;
      this.counts.events++;
      for (const w of hooks) {
        if (!w.events.includes(ev.type)) continue;
        const deliveryId = newDeliveryId();
        const row = await this.opts.store.addDelivery({
          webhookId: w.id,
          eventType: ev.type,
          deliveryId,
          attemptNumber: 1,
          payload: buildEnvelope(ev, k.shape, deliveryId),
          nextAttemptAt: new Date(),
        });
        this.enqueue({ row, kind: 'normal' });
        queued++;
      }
    }
    return queued;
  }

  /**
   * Generates `count` events whose deliveries suffer `kind` on their first `attempts` attempts (all
   * of them by default, so the provider ends up giving up), and returns the chains it planted.
   */
  async emitLosses(
    count: number,
    kind: LossKind,
    opts: { attempts?: number; only?: KnownEvent } = {},
  ): Promise<PlantedLoss[]> {
    const k = this.opts.knobs();
    const hooks = (await this.opts.webhooks()).filter((w) => w.isActive);
    const planted: PlantedLoss[] = [];
    for (let i = 0; i < count; i++) {
      const ev = this.world.next(new Date(Date.now() + k.skewMs), 0, opts.only);
      this.counts.events++;
      for (const w of hooks) {
        if (!w.events.includes(ev.type)) continue;
        const deliveryId = newDeliveryId();
        const row = await this.opts.store.addDelivery({
          webhookId: w.id,
          eventType: ev.type,
          deliveryId,
          attemptNumber: 1,
          payload: buildEnvelope(ev, k.shape, deliveryId),
          nextAttemptAt: new Date(),
        });
        this.losses.set(row.id, { kind, attempts: opts.attempts ?? Number.POSITIVE_INFINITY });
        planted.push({ webhookId: w.id, deliveryId, eventType: ev.type, kind });
        this.enqueue({ row, kind: 'normal' });
      }
    }
    return planted;
  }

  /** POST /webhooks/{id}/test: one contact.created sent now, logged, never retried. */
  async sendTest(webhook: Webhook): Promise<StoredDelivery> {
    const k = this.opts.knobs();
    const ev = this.world.next(new Date(Date.now() + k.skewMs), 0, 'contact.created');
    const deliveryId = newDeliveryId();
    const row = await this.opts.store.addDelivery({
      webhookId: webhook.id,
      eventType: ev.type,
      deliveryId,
      attemptNumber: 1,
      payload: buildEnvelope(ev, k.shape, deliveryId),
      nextAttemptAt: new Date(),
    });
    this.counts.events++;
    return this.attempt({ row, kind: 'test' }, webhook);
  }

  /** Re-schedules attempts that were pending when the process stopped (database store). */
  async resume() {
    for (const row of await this.opts.store.pendingDeliveries()) this.schedule(row);
  }

  /**
   * A webhook was disabled: its pending retries are marked failed now rather than kept for later.
   * SkyLight does not document this; dropping means re-enabling never floods the target with stale
   * events, and the delivery log shows exactly what was given up.
   */
  async dropPending(webhookId: number) {
    const ids = await this.opts.store.failPending(webhookId, DISABLED_REASON);
    for (const id of ids) {
      clearTimeout(this.timers.get(id));
      this.timers.delete(id);
      this.losses.delete(id);
    }
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i]!.row.webhookId === webhookId) this.queue.splice(i, 1);
    }
    this.counts.dropped += ids.length;
    this.counts.failed += ids.length;
  }

  /** Stops generating and retrying, and waits for the POSTs in flight. Pending rows stay pending. */
  async stop() {
    this.stopped = true;
    if (this.ticker) clearTimeout(this.ticker);
    this.ticker = null;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.losses.clear();
    this.queue.length = 0;
    await Promise.allSettled([...this.active]);
  }

  private schedule(row: StoredDelivery) {
    if (this.stopped) return;
    const delay = Math.max(0, (row.nextAttemptAt?.getTime() ?? 0) - Date.now());
    const timer = setTimeout(() => {
      this.timers.delete(row.id);
      this.enqueue({ row, kind: 'normal' });
    }, delay);
    timer.unref();
    this.timers.set(row.id, timer);
  }

  private enqueue(a: Attempt) {
    if (this.stopped) return;
    this.queue.push(a);
    this.pump();
  }

  private pump() {
    while (this.active.size < this.maxInFlight && this.queue.length > 0) {
      const a = this.queue.shift()!;
      const p = this.run(a).finally(() => {
        this.active.delete(p);
        this.pump();
      });
      this.active.add(p);
    }
  }

  private async run(a: Attempt) {
    try {
      const webhook = (await this.opts.webhooks()).find((w) => w.id === a.row.webhookId);
      // Deleted: its log rows went with it. Disabled: nothing is sent while it is off.
      if (!webhook) return;
      if (!webhook.isActive) {
        await this.opts.store.finishDelivery(a.row.id, {
          status: 'failed',
          responseStatusCode: null,
          responseBody: DISABLED_REASON,
        });
        this.counts.dropped++;
        this.counts.failed++;
        return;
      }
      await this.attempt(a, webhook);
    } catch (err) {
      this.log.warn({ err, deliveryId: a.row.deliveryId }, 'sandbox: delivery attempt failed to run');
    }
  }

  private async attempt(a: Attempt, webhook: Webhook): Promise<StoredDelivery> {
    const { row } = a;
    const k = this.opts.knobs();
    const loss = this.losses.get(row.id);
    this.losses.delete(row.id);
    const lossNow = loss && row.attemptNumber <= loss.attempts ? loss.kind : null;
    const result =
      lossNow === 'drop'
        ? { status: null, body: DROPPED_REASON }
        : await this.post(
            lossNow === 'reject' ? { ...webhook, secret: WRONG_SECRET } : webhook,
            row,
            k.skewMs,
          );
    const ok = result.status !== null && result.status >= 200 && result.status < 300;
    const finished = {
      status: ok ? ('delivered' as const) : ('failed' as const),
      responseStatusCode: result.status,
      responseBody: result.body,
    };
    await this.opts.store.finishDelivery(row.id, finished);
    this.counts.sent++;
    if (ok) this.counts.delivered++;
    else this.counts.failedAttempts++;
    if (a.kind === 'duplicate') this.counts.duplicates++;
    if (a.kind === 'normal') {
      if (!ok && row.attemptNumber < k.maxAttempts) await this.retryLater(row, k, loss);
      else if (!ok) this.counts.failed++;
      else if (row.attemptNumber === 1 && Math.random() < k.duplicates) await this.duplicate(row, k);
    }
    return { ...row, ...finished, nextAttemptAt: null };
  }

  private async retryLater(row: StoredDelivery, k: Knobs, loss?: Loss) {
    const delay = PROVIDER_RETRY_DELAYS_MS[row.attemptNumber - 1]! / k.timeScale;
    const next = await this.opts.store.addDelivery(this.successor(row, k, row.attemptNumber + 1, delay));
    if (loss) this.losses.set(next.id, loss);
    this.schedule(next);
  }

  /**
   * At-least-once in practice: the same delivery sent again. In `stable` mode it is byte-identical; in
   * `per-attempt` mode it carries a new delivery_id with the same data and timestamp, which only a
   * content fingerprint can recognise (provider-contract.md C7).
   */
  private async duplicate(row: StoredDelivery, k: Knobs) {
    const next = await this.opts.store.addDelivery(this.successor(row, k, row.attemptNumber, 0));
    this.enqueue({ row: next, kind: 'duplicate' });
  }

  private successor(row: StoredDelivery, k: Knobs, attemptNumber: number, delayMs: number) {
    let { deliveryId, payload } = row;
    if (k.idMode === 'per-attempt') {
      deliveryId = newDeliveryId();
      payload = JSON.stringify({ ...JSON.parse(payload), delivery_id: deliveryId });
    }
    return {
      webhookId: row.webhookId,
      eventType: row.eventType,
      deliveryId,
      attemptNumber,
      payload,
      nextAttemptAt: new Date(Date.now() + delayMs),
    };
  }

  private async post(
    webhook: Webhook,
    row: StoredDelivery,
    skewMs: number,
  ): Promise<{ status: number | null; body: string }> {
    const body = Buffer.from(row.payload, 'utf8');
    try {
      const res = await fetch(webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [HEADER_EVENT]: row.eventType,
          [HEADER_DELIVERY]: row.deliveryId,
          [HEADER_SIGNATURE]: sign(body, this.opts.knobs().wrongSecret ? WRONG_SECRET : webhook.secret),
          [HEADER_TIMESTAMP]: String(unixSeconds(Date.now() + skewMs)),
        },
        body,
        // A redirect is not a 2xx: SkyLight documents success as 2xx only.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await res.text();
      return { status: res.status, body: text.slice(0, RESPONSE_BODY_KEEP) };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const reason =
        e.name === 'TimeoutError'
          ? `no response within ${this.timeoutMs} ms`
          : `${e.cause?.code ?? e.name}: ${e.cause && 'message' in e.cause ? e.cause.message : e.message}`;
      return { status: null, body: reason.slice(0, RESPONSE_BODY_KEEP) };
    }
  }
}
