import { verdict } from '@/lib/alerts/service';
import { authed, ok } from '@/lib/api/route';

export const dynamic = 'force-dynamic';

/** The overview's one line: whose side the trouble is on right now, with the evidence. */
export const GET = authed('viewer', async () => ok(await verdict()));
