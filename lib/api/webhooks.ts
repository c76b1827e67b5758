import { getDb } from '@/db/client';
import { type Actor, insertAudit } from '@/db/queries/audit';
import { getSkylightClient } from '@/lib/providers/skylight/client';
import {
  type DeliveryPageView,
  type DeliveryQuery,
  deliveryPageViewSchema,
  type WebhookView,
  webhookViewSchema,
} from '@/lib/providers/skylight/client-schemas';

// What the provider routes answer: the browser's projection of SkyLight's objects (client-schemas.ts),
// never the objects as parsed, which keep any field the provider adds.

export async function listWebhooks(): Promise<WebhookView[]> {
  return (await getSkylightClient().listWebhooks()).map((w) => webhookViewSchema.parse(w));
}

export async function listProviderDeliveries(id: number, query: DeliveryQuery): Promise<DeliveryPageView> {
  return deliveryPageViewSchema.parse(await getSkylightClient().listDeliveries(id, query));
}

/**
 * Enables or disables a webhook on SkyLight and audits it. SkyLight does not queue events for a
 * disabled webhook, so the audit row is what explains a gap in the delivery log later.
 */
export async function setWebhookActive(id: number, isActive: boolean, who: Actor): Promise<WebhookView> {
  const webhook = await getSkylightClient().updateWebhook(id, { is_active: isActive });
  await insertAudit(await getDb(), who, 'webhook_toggle', String(id), {
    name: webhook.name,
    is_active: webhook.is_active,
  });
  return webhookViewSchema.parse(webhook);
}
