import { env } from '@/lib/env';
import { fromWebRequest } from '@/lib/receiver/web-request';
import { runtime } from '@/lib/runtime';

export const dynamic = 'force-dynamic';

/** Every source's receiver (`/api/webhooks/skylightchat`, `/api/webhooks/sly`, and those added later). */
export async function POST(request: Request, ctx: { params: Promise<{ source: string }> }) {
  const startedAt = performance.now();
  const { source } = await ctx.params;
  const res = await runtime().receiver.handle(source, fromWebRequest(request, startedAt, env.TRUST_PROXY));
  return Response.json(res.body, { status: res.status, headers: res.headers });
}
