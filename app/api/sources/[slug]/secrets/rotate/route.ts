import { authed, ok, parseBody, parseParams } from '@/lib/api/route';
import { secretRotateBodySchema, sourceSlugParamSchema } from '@/lib/api/schemas';
import { secretsDeps } from '@/lib/runtime';
import { rotateSecret } from '@/lib/sources/secrets';

export const dynamic = 'force-dynamic';

export const POST = authed<{ slug: string }>('operator', async (request, who, params) => {
  const { slug } = parseParams(sourceSlugParamSchema, params);
  const body = await parseBody(secretRotateBodySchema, request);
  const input = { overlapSeconds: body.overlap_seconds, webhookId: body.webhook_id };
  return ok(await rotateSecret(secretsDeps(), slug, input, who));
});
