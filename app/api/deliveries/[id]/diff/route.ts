import { authed, ok, parseParams } from '@/lib/api/route';
import { idParamSchema } from '@/lib/api/schemas';
import { getDb } from '@/lib/db';
import { AppError } from '@/lib/errors';
import { deliveryComparisons } from '@/lib/payload/compare';

export const dynamic = 'force-dynamic';

/** The delivery's payload against the previous one about the same object and against its original. */
export const GET = authed<{ id: string }>('viewer', async (_request, _who, params) => {
  const { id } = parseParams(idParamSchema, params);
  const found = await deliveryComparisons(await getDb(), id);
  if (!found) throw new AppError('not_found', `Delivery ${id} not found`);
  return ok(found);
});
