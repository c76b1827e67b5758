import { getDb } from '@/db/client';
import { discardDeadLetter } from '@/db/queries/dlq';
import { authed, ok, parseParams } from '@/lib/api/route';
import { idParam } from '@/lib/api/schemas';

export const dynamic = 'force-dynamic';

export const POST = authed<{ id: string }>('operator', async (_request, who, params) => {
  const { id } = parseParams(idParam, params);
  return ok(await discardDeadLetter(await getDb(), id, who));
});
