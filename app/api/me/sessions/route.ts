import { listSessions } from '@/db/queries/users';
import { authed, ok } from '@/lib/api/route';
import { requireUser } from '@/lib/auth/require';
import { getDb } from '@/lib/db';

export const dynamic = 'force-dynamic';

export const GET = authed('viewer', async (_request, who) => {
  const rows = await listSessions(await getDb(), requireUser(who).userId);
  return ok(rows.map((r) => ({ ...r, current: r.id === who.sessionId })));
});
