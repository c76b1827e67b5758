import { KNOWN_EVENTS } from '../protocol';
import { Downstream } from './downstream';
import { newWebhookSecret } from './format';
import { DEFAULT_KNOBS, type Knobs, knobsSchema } from './knobs';
import { type SandboxLog, Sender, silentLog } from './sender';
import type { SandboxStore, StoredWebhookPatch, Webhook } from './store';

export type CoreOptions = {
  store: SandboxStore;
  knobs?: Partial<Knobs>;
  deliveryTimeoutMs?: number;
  maxInFlight?: number;
  log?: SandboxLog;
};

export type NewWebhook = {
  name: string;
  url: string;
  events?: string[];
  isActive?: boolean;
  secret?: string;
};

/** Webhooks are read on every delivery; a short cache keeps that off the database. */
const CACHE_MS = 1000;

/** The sandbox's provider-side behaviour, shared by the HTTP API, the control API and the hosts. */
export class SandboxCore {
  readonly store: SandboxStore;
  readonly sender: Sender;
  readonly downstream = new Downstream();
  private current: Knobs;
  private cache: { at: number; list: Promise<Webhook[]> } | null = null;

  constructor(opts: CoreOptions) {
    this.store = opts.store;
    this.current = knobsSchema.parse({ ...DEFAULT_KNOBS, ...opts.knobs });
    this.sender = new Sender({
      store: opts.store,
      knobs: () => this.current,
      webhooks: () => this.webhooks(),
      deliveryTimeoutMs: opts.deliveryTimeoutMs,
      maxInFlight: opts.maxInFlight,
      log: opts.log ?? silentLog,
    });
  }

  knobs(): Knobs {
    return this.current;
  }

  setKnobs(patch: Partial<Knobs>): Knobs {
    this.current = knobsSchema.parse({ ...this.current, ...patch });
    return this.current;
  }

  webhooks(): Promise<Webhook[]> {
    if (!this.cache || performance.now() - this.cache.at > CACHE_MS) {
      const list = this.store.listWebhooks();
      this.cache = { at: performance.now(), list };
      list.catch(() => {
        this.cache = null;
      });
    }
    return this.cache.list;
  }

  async createWebhook(input: NewWebhook): Promise<Webhook> {
    const w = await this.store.createWebhook({
      name: input.name,
      url: input.url,
      events: input.events ?? [...KNOWN_EVENTS],
      isActive: input.isActive ?? true,
      secret: input.secret ?? newWebhookSecret(),
    });
    this.cache = null;
    return w;
  }

  async updateWebhook(id: number, patch: StoredWebhookPatch): Promise<Webhook | null> {
    const w = await this.store.updateWebhook(id, patch);
    this.cache = null;
    if (w && patch.isActive === false) await this.sender.dropPending(id);
    return w;
  }

  async deleteWebhook(id: number): Promise<boolean> {
    const ok = await this.store.deleteWebhook(id);
    this.cache = null;
    return ok;
  }

  /** The old secret stops working at once (the docs do not describe an overlap). */
  async regenerateSecret(id: number): Promise<Webhook | null> {
    return this.updateWebhook(id, { secret: newWebhookSecret() });
  }

  async stats() {
    return {
      sender: this.sender.stats(),
      downstream: this.downstream.stats(),
      contacts: this.sender.world.contactCount,
      knobs: this.current,
    };
  }
}
