import { authed, ok, parseBody, parseParams } from '@/lib/api/route';
import { sourcePatchBodySchema, sourceSlugParamSchema } from '@/lib/api/schemas';
import { runtime } from '@/lib/runtime';
import { patchSource } from '@/lib/sources/service';

export const dynamic = 'force-dynamic';

export const PATCH = authed<{ slug: string }>('admin', async (request, who, params) => {
  const { slug } = parseParams(sourceSlugParamSchema, params);
  const patch = await parseBody(sourcePatchBodySchema, request);
  return ok(await patchSource(runtime().sources, slug, patch, who));
});
