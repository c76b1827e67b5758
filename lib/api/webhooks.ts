import { getDb } from '@/db/client';
import { type Actor, insertAudit } from '@/db/queries/audit';
import { AppError } from '@/lib/errors';
import { PROVIDER_NAMES, type ProviderName, providerOf } from '@/lib/providers/registry';
import type { ManagementClient, ProviderDeliveryFilter } from '@/lib/providers/types';

/** The provider's management client; without `provider`, the first provider that has one. */
async function management(
  name?: ProviderName,
): Promise<{ provider: ProviderName; client: ManagementClient }> {
  const provider = name ?? PROVIDER_NAMES.find((p) => providerOf(p).management);
  const load = provider ? providerOf(provider).management : undefined;
  const client = load ? await load() : null;
  if (!provider || !client) {
    throw new AppError(
      'not_found',
      `${name ? providerOf(name).label : 'No provider'} has no management API here`,
    );
  }
  return { provider, client };
}

export async function listProviderWebhooks(name?: ProviderName) {
  const { provider, client } = await management(name);
  return (await client.listWebhooks()).map((w) => ({ ...w, provider }));
}

/**
 * The provider's own delivery log for one webhook: its rows (its field names) and its paging, which
 * the route puts beside `data` like every other list.
 */
export async function listProviderDeliveries(
  id: number,
  filter: ProviderDeliveryFilter & { provider?: ProviderName },
) {
  const { client } = await management(filter.provider);
  if (filter.status !== undefined && !client.deliveryStatuses.includes(filter.status)) {
    throw new AppError('bad_request', `Invalid query: status: one of ${client.deliveryStatuses.join(', ')}`);
  }
  return client.listDeliveries(id, { status: filter.status, page: filter.page });
}

/**
 * Enables or disables a webhook on the provider and audits it. A provider need not queue events for
 * a disabled webhook, so the audit row is what explains a gap in the delivery log later.
 */
export async function setWebhookActive(id: number, isActive: boolean, who: Actor, name?: ProviderName) {
  const { provider, client } = await management(name);
  const webhook = await client.setWebhookActive(id, isActive);
  await insertAudit(await getDb(), who, 'webhook_toggle', String(id), {
    provider,
    name: webhook.name,
    is_active: webhook.is_active,
  });
  return { ...webhook, provider };
}
