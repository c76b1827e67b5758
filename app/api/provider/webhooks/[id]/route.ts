import { authed, ok, parseBody, parseParams } from '@/lib/api/route';
import { idParam, webhookPatchBody } from '@/lib/api/schemas';
import { setWebhookActive } from '@/lib/api/webhooks';

export const dynamic = 'force-dynamic';

export const PATCH = authed<{ id: string }>('operator', async (request, who, params) => {
  const { id } = parseParams(idParam, params);
  const { is_active } = await parseBody(webhookPatchBody, request);
  return ok(await setWebhookActive(id, is_active, who));
});
