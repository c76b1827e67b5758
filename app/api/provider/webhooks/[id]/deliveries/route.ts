import { authed, ok, parseParams, parseQuery } from '@/lib/api/route';
import { idParamSchema, providerDeliveriesQuerySchema } from '@/lib/api/schemas';
import { getSkylightClient } from '@/lib/providers/skylight/client';

export const dynamic = 'force-dynamic';

/** SkyLight's own delivery log for one webhook: `{data: {data: [...], meta}}`, SkyLight's field names. */
export const GET = authed<{ id: string }>(async (request, _session, params) => {
  const { id } = parseParams(idParamSchema, params);
  const q = parseQuery(providerDeliveriesQuerySchema, request);
  return ok(await getSkylightClient().listDeliveries(id, { ...q, per_page: 25 }));
});
