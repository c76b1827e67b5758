import { type Actor, insertAudit } from '@/db/queries/audit';
import { getDb } from '@/lib/db';
import { AppError } from '@/lib/errors';
import { PROVIDER_NAMES, type ProviderName, providerOf } from '@/lib/providers/registry';
import type { ManagementApi, ManagementClient, ProviderDeliveryFilter } from '@/lib/providers/types';
import { runtime } from '@/lib/runtime';

// What the provider routes answer is the management client's projection of the provider's objects
// (its field names, only those listed: lib/providers/<name>/), never the objects as parsed.

/**
 * The provider's management client for the configured API; without `name`, the first provider that
 * has a management API.
 */
export async function managementFor(
  name: ProviderName | undefined,
  apiOf: (provider: ProviderName) => ManagementApi | null,
): Promise<{ provider: ProviderName; client: ManagementClient }> {
  const provider = name ?? PROVIDER_NAMES.find((p) => providerOf(p).management);
  const load = provider ? providerOf(provider).management : undefined;
  if (!provider || !load) {
    throw new AppError(
      'not_found',
      `${name ? providerOf(name).label : 'No provider'} has no management API here`,
    );
  }
  const api = apiOf(provider);
  if (!api) {
    throw new AppError(
      'unavailable',
      `${providerOf(provider).label} management API is not configured: set its API key in the environment (README, Configuration), or unset it to use the built-in sandbox`,
    );
  }
  return { provider, client: await load(api) };
}

const management = (name?: ProviderName) => managementFor(name, (p) => runtime().managementApi(p));

export async function listProviderWebhooks(name?: ProviderName) {
  const { client } = await management(name);
  return client.listWebhooks();
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
  return webhook;
}
