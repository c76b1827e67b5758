import { authed, ok, parseBody } from '@/lib/api/route';
import { reconciliationRunBodySchema } from '@/lib/api/schemas';
import { reconcileNow } from '@/lib/reconciliation/service';

export const dynamic = 'force-dynamic';

/** Starts a reconciliation now; 202 with its id, 409 while another one runs. */
export const POST = authed('operator', async (request, who) => {
  await parseBody(reconciliationRunBodySchema, request);
  return ok(await reconcileNow(who), { status: 202 });
});
