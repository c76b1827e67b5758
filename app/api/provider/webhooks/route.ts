import { authed, ok, parseQuery } from '@/lib/api/route';
import { providerWebhooksQuerySchema } from '@/lib/api/schemas';
import { listProviderWebhooks } from '@/lib/api/webhooks';

export const dynamic = 'force-dynamic';

export const GET = authed('viewer', async (request) => {
  const { provider } = parseQuery(providerWebhooksQuerySchema, request);
  return ok(await listProviderWebhooks(provider));
});
