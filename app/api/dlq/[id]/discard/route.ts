import { discardDeadLetter } from '@/db/queries/dlq';
import { authed, ok, parseParams } from '@/lib/api/route';
import { idParamSchema } from '@/lib/api/schemas';
import { getDb } from '@/lib/db';

export const dynamic = 'force-dynamic';

export const POST = authed<{ id: string }>('operator', async (_request, who, params) => {
  const { id } = parseParams(idParamSchema, params);
  return ok(await discardDeadLetter(await getDb(), id, who));
});
