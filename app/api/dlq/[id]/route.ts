import { getEvent } from '@/db/queries/dlq';
import { authed, ok, parseParams } from '@/lib/api/route';
import { idParamSchema } from '@/lib/api/schemas';
import { getDb } from '@/lib/db';
import { AppError } from '@/lib/errors';

export const dynamic = 'force-dynamic';

/** One dead letter (or any event) with its payload and attempt history. */
export const GET = authed<{ id: string }>('viewer', async (_request, _who, params) => {
  const { id } = parseParams(idParamSchema, params);
  const event = await getEvent(await getDb(), id);
  if (!event) throw new AppError('not_found', `Event ${id} not found`);
  return ok(event);
});
