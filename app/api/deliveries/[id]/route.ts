import { getDelivery } from '@/db/queries/deliveries';
import { authed, ok, parseParams } from '@/lib/api/route';
import { idParamSchema } from '@/lib/api/schemas';
import { getDb } from '@/lib/db';
import { AppError } from '@/lib/errors';

export const dynamic = 'force-dynamic';

export const GET = authed<{ id: string }>('viewer', async (_request, _who, params) => {
  const { id } = parseParams(idParamSchema, params);
  const delivery = await getDelivery(await getDb(), id);
  if (!delivery) throw new AppError('not_found', `Delivery ${id} not found`);
  return ok(delivery);
});
