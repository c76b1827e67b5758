import { authed, ok, parseParams } from '@/lib/api/route';
import { idParamSchema } from '@/lib/api/schemas';
import { getDb } from '@/lib/db';
import { enqueueDelivery } from '@/lib/deliveries/enqueue';
import { runtime } from '@/lib/runtime';

export const dynamic = 'force-dynamic';

export const POST = authed<{ id: string }>('operator', async (_request, who, params) => {
  const { id } = parseParams(idParamSchema, params);
  const result = await enqueueDelivery(await getDb(), id, who);
  runtime().worker?.nudge();
  return ok(result, { status: 202 });
});
