import { authed, ok } from '@/lib/api/route';
import { getSkylightClient } from '@/lib/providers/skylight/client';

export const dynamic = 'force-dynamic';

export const GET = authed('viewer', async () => ok(await getSkylightClient().listWebhooks()));
