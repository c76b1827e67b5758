import { receive } from '@/lib/receiver/receive';
import { fromWebRequest } from '@/lib/receiver/web-request';
import { receiverDeps } from '@/lib/runtime';

export const dynamic = 'force-dynamic';

export async function POST(request: Request) {
  const startedAt = performance.now();
  const res = await receive(fromWebRequest(request, startedAt), receiverDeps());
  return Response.json(res.body, { status: res.status, headers: res.headers });
}
