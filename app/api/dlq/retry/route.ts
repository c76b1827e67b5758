import { authed, ok, parseBody } from '@/lib/api/route';
import { dlqBulkRetryBodySchema } from '@/lib/api/schemas';
import { getDb } from '@/lib/db';
import { bulkRetry } from '@/lib/dlq/preview';
import { runtime } from '@/lib/runtime';

export const dynamic = 'force-dynamic';

export const POST = authed('operator', async (request, who) => {
  const { dry_run, exclude_superseded, ...filter } = await parseBody(dlqBulkRetryBodySchema, request);
  const result = await bulkRetry(
    await getDb(),
    filter,
    { dryRun: dry_run, excludeSuperseded: exclude_superseded },
    who,
  );
  if (!result.dry_run && result.matched > 0) runtime().worker?.nudge();
  return ok(result, { status: dry_run ? 200 : 202 });
});
