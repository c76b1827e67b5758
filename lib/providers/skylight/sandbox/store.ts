/** Provider-side state of the sandbox: webhooks and the delivery log (one row per attempt). */

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export type Webhook = {
  id: number;
  name: string;
  url: string;
  events: string[];
  isActive: boolean;
  secret: string;
  createdAt: Date;
  updatedAt: Date;
};

export type StoredWebhookInput = Pick<Webhook, 'name' | 'url' | 'events' | 'isActive'> & { secret: string };
export type StoredWebhookPatch = Partial<Pick<Webhook, 'name' | 'url' | 'events' | 'isActive' | 'secret'>>;

export type StoredDelivery = {
  id: number;
  webhookId: number;
  eventType: string;
  deliveryId: string;
  attemptNumber: number;
  responseStatusCode: number | null;
  responseBody: string | null;
  status: DeliveryStatus;
  /** The exact body bytes (UTF-8) this attempt sends; signed at send time with the current secret. */
  payload: string;
  /** When a pending attempt is due; null once it has been sent. */
  nextAttemptAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
};

export type DeliveryInput = Pick<
  StoredDelivery,
  'webhookId' | 'eventType' | 'deliveryId' | 'attemptNumber' | 'payload' | 'nextAttemptAt'
>;

export type DeliveryResult = Pick<StoredDelivery, 'status' | 'responseStatusCode' | 'responseBody'>;

export type StoredDeliveryPage = { items: StoredDelivery[]; total: number };

export interface SandboxStore {
  listWebhooks(): Promise<Webhook[]>;
  getWebhook(id: number): Promise<Webhook | null>;
  createWebhook(input: StoredWebhookInput): Promise<Webhook>;
  updateWebhook(id: number, patch: StoredWebhookPatch): Promise<Webhook | null>;
  deleteWebhook(id: number): Promise<boolean>;
  /** Delivery-log rows per webhook (delivery_logs_count in list version A). */
  deliveryCounts(): Promise<Map<number, number>>;
  /** Inserts a `pending` attempt. */
  addDelivery(input: DeliveryInput): Promise<StoredDelivery>;
  finishDelivery(id: number, result: DeliveryResult): Promise<void>;
  /** Pending attempts: resumed after a restart. */
  pendingDeliveries(): Promise<StoredDelivery[]>;
  /** Marks every pending attempt of a webhook failed (it was disabled); returns their ids. */
  failPending(webhookId: number, reason: string): Promise<number[]>;
  listDeliveries(
    webhookId: number,
    opts: { status?: DeliveryStatus; page: number; perPage: number },
  ): Promise<StoredDeliveryPage>;
}
