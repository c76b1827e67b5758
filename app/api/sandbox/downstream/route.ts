import { authed, ok, parseBody } from '@/lib/api/route';
import { sandboxOutageBodySchema } from '@/lib/api/schemas';
import { AppError } from '@/lib/errors';
import { runtime } from '@/lib/runtime';

export const dynamic = 'force-dynamic';

function demoDownstream() {
  const sandbox = runtime().sandbox;
  if (!sandbox?.downstream()) {
    throw new AppError(
      'not_found',
      'No sandbox downstream here: the outage switch exists in sandbox mode when NOTIFY_WEBHOOK_URL is unset',
    );
  }
  return sandbox;
}

/** The demo's downstream (notification sink): whether it is in an outage, and its counters. */
export const GET = authed('viewer', async () => ok(demoDownstream().downstream()));

/** Starts or ends the demo's downstream outage; audited. */
export const POST = authed('operator', async (request, who) => {
  const { outage } = await parseBody(sandboxOutageBodySchema, request);
  const stats = await demoDownstream().setDownstreamOutage(outage, who);
  return ok(stats);
});
