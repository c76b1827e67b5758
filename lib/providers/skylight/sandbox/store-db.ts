import type { Db } from '@/db/client';
import {
  countSandboxDeliveries,
  deleteSandboxWebhook,
  failPendingSandboxDeliveries,
  finishSandboxDelivery,
  getSandboxWebhook,
  insertSandboxDelivery,
  insertSandboxWebhook,
  listSandboxDeliveries,
  listSandboxWebhooks,
  pendingSandboxDeliveries,
  updateSandboxWebhook,
} from '@/db/queries/sandbox';
import type { DeliveryStatus, SandboxStore, StoredWebhookInput, StoredWebhookPatch } from './store';

/** The embedded sandbox's state in the app's database, so its webhook and secret survive restarts. */
export class DbStore implements SandboxStore {
  constructor(private readonly db: () => Promise<Db>) {}

  async listWebhooks() {
    return listSandboxWebhooks(await this.db());
  }
  async getWebhook(id: number) {
    return getSandboxWebhook(await this.db(), id);
  }
  async createWebhook(input: StoredWebhookInput) {
    return insertSandboxWebhook(await this.db(), input);
  }
  async updateWebhook(id: number, patch: StoredWebhookPatch) {
    return updateSandboxWebhook(await this.db(), id, patch);
  }
  async deleteWebhook(id: number) {
    return deleteSandboxWebhook(await this.db(), id);
  }
  async deliveryCounts() {
    return countSandboxDeliveries(await this.db());
  }
  async addDelivery(input: Parameters<SandboxStore['addDelivery']>[0]) {
    return insertSandboxDelivery(await this.db(), { ...input, status: 'pending' });
  }
  async finishDelivery(id: number, result: Parameters<SandboxStore['finishDelivery']>[1]) {
    await finishSandboxDelivery(await this.db(), id, result);
  }
  async pendingDeliveries() {
    return pendingSandboxDeliveries(await this.db());
  }
  async failPending(webhookId: number, reason: string) {
    return failPendingSandboxDeliveries(await this.db(), webhookId, reason);
  }
  async listDeliveries(webhookId: number, opts: { status?: DeliveryStatus; page: number; perPage: number }) {
    return listSandboxDeliveries(await this.db(), webhookId, {
      status: opts.status,
      limit: opts.perPage,
      offset: (opts.page - 1) * opts.perPage,
    });
  }
}
