import { authed, ok, parseParams } from '@/lib/api/route';
import { secretIdParamSchema } from '@/lib/api/schemas';
import { secretsDeps } from '@/lib/runtime';
import { retireSecret } from '@/lib/sources/secrets';

export const dynamic = 'force-dynamic';

/** Retires the secret now (kept for forensics: a delivery still signed with it is named as such). */
export const DELETE = authed<{ slug: string; id: string }>('operator', async (_request, who, params) => {
  const { slug, id } = parseParams(secretIdParamSchema, params);
  return ok(await retireSecret(secretsDeps(), slug, id, who));
});
