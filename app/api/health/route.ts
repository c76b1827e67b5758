import { health } from '@/lib/health';

export const dynamic = 'force-dynamic';

export async function GET() {
  const h = await health();
  return Response.json(h, { status: h.db === 'down' ? 503 : 200, headers: { 'Cache-Control': 'no-store' } });
}
