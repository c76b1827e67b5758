import { authed, ok, parseBody, parseParams } from '@/lib/api/route';
import { secretAddBodySchema, sourceSlugParamSchema } from '@/lib/api/schemas';
import { secretsDeps } from '@/lib/runtime';
import { addSecret, listSecrets } from '@/lib/sources/secrets';

export const dynamic = 'force-dynamic';

export const GET = authed<{ slug: string }>('viewer', async (_request, _who, params) => {
  const { slug } = parseParams(sourceSlugParamSchema, params);
  return ok(await listSecrets(secretsDeps(), slug));
});

/** Pasting a new secret from the provider is a rotation step: operators may, like "rotate". */
export const POST = authed<{ slug: string }>('operator', async (request, who, params) => {
  const { slug } = parseParams(sourceSlugParamSchema, params);
  const body = await parseBody(secretAddBodySchema, request);
  const input = { value: body.secret, label: body.label, overlapSeconds: body.overlap_seconds };
  return ok(await addSecret(secretsDeps(), slug, input, who), { status: 201 });
});
