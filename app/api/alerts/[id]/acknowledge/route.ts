import { acknowledge } from '@/lib/alerts/service';
import { authed, ok, parseParams } from '@/lib/api/route';
import { idParamSchema } from '@/lib/api/schemas';

export const dynamic = 'force-dynamic';

export const POST = authed<{ id: string }>('operator', async (_request, who, params) => {
  const { id } = parseParams(idParamSchema, params);
  return ok(await acknowledge(id, who));
});
