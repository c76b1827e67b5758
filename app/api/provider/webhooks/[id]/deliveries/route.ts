import { authed, ok, parseParams, parseQuery } from '@/lib/api/route';
import { idParam, providerDeliveriesQuery } from '@/lib/api/schemas';
import { listProviderDeliveries } from '@/lib/api/webhooks';

export const dynamic = 'force-dynamic';

/** SkyLight's own delivery log for one webhook: `{data: {data: [...], meta}}`, SkyLight's field names. */
export const GET = authed<{ id: string }>('viewer', async (request, _who, params) => {
  const { id } = parseParams(idParam, params);
  const q = parseQuery(providerDeliveriesQuery, request);
  return ok(await listProviderDeliveries(id, { ...q, per_page: 25 }));
});
