import { listPayloadDrift } from '@/db/queries/payload-shapes';
import { authed, ok, parseQuery } from '@/lib/api/route';
import { payloadDriftQuerySchema } from '@/lib/api/schemas';
import { getDb } from '@/lib/db';

export const dynamic = 'force-dynamic';

/** Payload shape changes found by the learner (lib/payload/drift.ts), newest first. */
export const GET = authed('viewer', async (request) => {
  const { limit, ...filter } = parseQuery(payloadDriftQuerySchema, request);
  return ok(await listPayloadDrift(await getDb(), filter, limit));
});
