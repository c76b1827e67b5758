import { authed, ok, parseBody } from '@/lib/api/route';
import { deliveriesEnqueueBodySchema } from '@/lib/api/schemas';
import { getDb } from '@/lib/db';
import { enqueueDeliveries } from '@/lib/deliveries/enqueue';
import { runtime } from '@/lib/runtime';

export const dynamic = 'force-dynamic';

export const POST = authed('operator', async (request, who) => {
  const { filter, dry_run } = await parseBody(deliveriesEnqueueBodySchema, request);
  const result = await enqueueDeliveries(await getDb(), filter, who, dry_run);
  if (!result.dry_run && result.created > 0) runtime().worker?.nudge();
  return ok(result, { status: dry_run ? 200 : 202 });
});
