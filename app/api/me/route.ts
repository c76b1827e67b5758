import { authed, ok } from '@/lib/api/route';

export const dynamic = 'force-dynamic';

export const GET = authed('viewer', async (_request, who) =>
  ok({ email: who.actor, role: who.role, via: who.via, token_name: who.tokenName }),
);
