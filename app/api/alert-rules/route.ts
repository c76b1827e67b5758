import { rulesView } from '@/lib/alerts/service';
import { authed, ok } from '@/lib/api/route';

export const dynamic = 'force-dynamic';

export const GET = authed('viewer', async () => {
  const { rules, channel } = await rulesView();
  return ok(rules, { meta: { channel } });
});
