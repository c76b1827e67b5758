import { getDb } from '@/db/client';
import { type Actor, insertAudit } from '@/db/queries/audit';
import { getSkylightClient } from '@/lib/providers/skylight/client';

/**
 * Enables or disables a webhook on SkyLight and audits it. SkyLight does not queue events for a
 * disabled webhook, so the audit row is what explains a gap in the delivery log later.
 */
export async function setWebhookActive(id: number, isActive: boolean, who: Actor) {
  const webhook = await getSkylightClient().updateWebhook(id, { is_active: isActive });
  await insertAudit(await getDb(), who, 'webhook_toggle', String(id), {
    name: webhook.name,
    is_active: webhook.is_active,
  });
  return webhook;
}
