import { authed, ok, parseBody } from '@/lib/api/route';
import { sandboxFaultBodySchema } from '@/lib/api/schemas';
import { AppError } from '@/lib/errors';
import { runtime } from '@/lib/runtime';

export const dynamic = 'force-dynamic';

function demoProvider() {
  const sandbox = runtime().sandbox;
  if (!sandbox)
    throw new AppError('not_found', 'No sandbox here: provider faults exist in sandbox mode only');
  return sandbox;
}

/** Which provider-side faults the demo sandbox has on. */
export const GET = authed('viewer', async () => ok(await demoProvider().faults()));

/** Switches one provider-side fault, to watch its alert open and resolve; audited as sandbox_fault. */
export const POST = authed('operator', async (request, who) => {
  const { fault, on, event_type } = await parseBody(sandboxFaultBodySchema, request);
  return ok(await demoProvider().setFault(fault, on, { eventType: event_type }, who));
});
