import type {
  DeliveryInput,
  DeliveryResult,
  DeliveryStatus,
  SandboxStore,
  StoredDelivery,
  StoredDeliveryPage,
  StoredWebhookInput,
  StoredWebhookPatch,
  Webhook,
} from './store';

/** The standalone sandbox's state: gone when the process exits, which is what a test run wants. */
export class MemoryStore implements SandboxStore {
  private webhooks = new Map<number, Webhook>();
  private deliveries = new Map<number, StoredDelivery>();
  private nextWebhookId = 1;
  private nextDeliveryId = 1;

  async listWebhooks() {
    return [...this.webhooks.values()].map((w) => ({ ...w }));
  }

  async getWebhook(id: number) {
    const w = this.webhooks.get(id);
    return w ? { ...w } : null;
  }

  async createWebhook(input: StoredWebhookInput) {
    const now = new Date();
    const w: Webhook = { id: this.nextWebhookId++, ...input, createdAt: now, updatedAt: now };
    this.webhooks.set(w.id, w);
    return { ...w };
  }

  async updateWebhook(id: number, patch: StoredWebhookPatch) {
    const w = this.webhooks.get(id);
    if (!w) return null;
    Object.assign(w, patch, { updatedAt: new Date() });
    return { ...w };
  }

  async deleteWebhook(id: number) {
    if (!this.webhooks.delete(id)) return false;
    for (const [key, d] of this.deliveries) if (d.webhookId === id) this.deliveries.delete(key);
    return true;
  }

  async deliveryCounts() {
    const counts = new Map<number, number>();
    for (const d of this.deliveries.values()) counts.set(d.webhookId, (counts.get(d.webhookId) ?? 0) + 1);
    return counts;
  }

  async addDelivery(input: DeliveryInput) {
    const now = new Date();
    const row: StoredDelivery = {
      id: this.nextDeliveryId++,
      ...input,
      status: 'pending',
      responseStatusCode: null,
      responseBody: null,
      createdAt: now,
      updatedAt: now,
    };
    this.deliveries.set(row.id, row);
    return { ...row };
  }

  async finishDelivery(id: number, result: DeliveryResult) {
    const row = this.deliveries.get(id);
    if (row) Object.assign(row, result, { nextAttemptAt: null, updatedAt: new Date() });
  }

  async pendingDeliveries() {
    return [...this.deliveries.values()].filter((d) => d.status === 'pending').map((d) => ({ ...d }));
  }

  async failPending(webhookId: number, reason: string) {
    const ids: number[] = [];
    for (const d of this.deliveries.values()) {
      if (d.webhookId !== webhookId || d.status !== 'pending') continue;
      Object.assign(d, {
        status: 'failed',
        responseBody: reason,
        nextAttemptAt: null,
        updatedAt: new Date(),
      });
      ids.push(d.id);
    }
    return ids;
  }

  async listDeliveries(
    webhookId: number,
    opts: { status?: DeliveryStatus; page: number; perPage: number },
  ): Promise<StoredDeliveryPage> {
    const all = [...this.deliveries.values()]
      .filter((d) => d.webhookId === webhookId && (!opts.status || d.status === opts.status))
      .reverse();
    const start = (opts.page - 1) * opts.perPage;
    return { items: all.slice(start, start + opts.perPage).map((d) => ({ ...d })), total: all.length };
  }
}
