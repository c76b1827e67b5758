import { authed, clientIp, ok, parseBody } from '@/lib/api/route';
import { sourceCreateBodySchema } from '@/lib/api/schemas';
import { runtime } from '@/lib/runtime';
import { createSource, listSources } from '@/lib/sources/service';

export const dynamic = 'force-dynamic';

export const GET = authed(async () => ok(await listSources(runtime().sources)));

export const POST = authed(async (request, session) => {
  const input = await parseBody(sourceCreateBodySchema, request);
  const source = await createSource(runtime().sources, input, {
    actor: session.actor,
    ip: clientIp(request),
  });
  return ok(source, { status: 201 });
});
