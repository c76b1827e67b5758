import { authed, ok, parseBody } from '@/lib/api/route';
import { sourceCreateBodySchema } from '@/lib/api/schemas';
import { runtime } from '@/lib/runtime';
import { createSource, listSources } from '@/lib/sources/service';

export const dynamic = 'force-dynamic';

export const GET = authed('viewer', async () => ok(await listSources(runtime().sources)));

/** Adding an inbound endpoint and its secrets is configuration: admins only. */
export const POST = authed('admin', async (request, who) => {
  const input = await parseBody(sourceCreateBodySchema, request);
  return ok(await createSource(runtime().sources, input, who), { status: 201 });
});
