import { authed, ok, parseBody, parseParams, parseQuery } from '@/lib/api/route';
import { idParamSchema, providerWebhooksQuerySchema, webhookPatchBodySchema } from '@/lib/api/schemas';
import { setWebhookActive } from '@/lib/api/webhooks';

export const dynamic = 'force-dynamic';

export const PATCH = authed<{ id: string }>('operator', async (request, who, params) => {
  const { id } = parseParams(idParamSchema, params);
  const { provider } = parseQuery(providerWebhooksQuerySchema, request);
  const { is_active } = await parseBody(webhookPatchBodySchema, request);
  return ok(await setWebhookActive(id, is_active, who, provider));
});
