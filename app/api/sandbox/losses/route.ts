import { insertAudit } from '@/db/queries/audit';
import { authed, ok, parseBody } from '@/lib/api/route';
import { sandboxLossesBodySchema } from '@/lib/api/schemas';
import { getDb } from '@/lib/db';
import { AppError } from '@/lib/errors';
import { runtime } from '@/lib/runtime';

export const dynamic = 'force-dynamic';

/**
 * Sandbox mode only: plants deliveries the receiver refuses or never sees, until the provider gives
 * up, so the Reconciliation page shows every class. 202 with the planted delivery ids; audited.
 */
export const POST = authed('operator', async (request, who) => {
  await parseBody(sandboxLossesBodySchema, request);
  const sandbox = runtime().sandbox;
  if (!sandbox)
    throw new AppError('not_found', 'No sandbox here: losses can be planted in sandbox mode only');
  const planted = await sandbox.plantLosses();
  await insertAudit(await getDb(), who, 'sandbox_losses', null, planted);
  return ok(planted, { status: 202 });
});
