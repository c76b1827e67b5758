import { authed, ok, parseParams, parseQuery } from '@/lib/api/route';
import { idParamSchema, providerDeliveriesQuerySchema } from '@/lib/api/schemas';
import { listProviderDeliveries } from '@/lib/api/webhooks';

export const dynamic = 'force-dynamic';

/** The provider's own delivery log for one webhook: `{data: [...], meta}`, the provider's field names. */
export const GET = authed<{ id: string }>('viewer', async (request, _who, params) => {
  const { id } = parseParams(idParamSchema, params);
  const page = await listProviderDeliveries(id, parseQuery(providerDeliveriesQuerySchema, request));
  return ok(page.data, { meta: page.meta });
});
