import { authed, ok } from '@/lib/api/route';
import { listWebhooks } from '@/lib/api/webhooks';

export const dynamic = 'force-dynamic';

export const GET = authed('viewer', async () => ok(await listWebhooks()));
