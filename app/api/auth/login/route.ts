import { clientIp, ok, parseBody } from '@/lib/api/route';
import { loginBodySchema } from '@/lib/api/schemas';
import { login } from '@/lib/auth/login';
import { isSameOrigin } from '@/lib/auth/require';
import { AppError, toResponse } from '@/lib/errors';

export const dynamic = 'force-dynamic';

export async function POST(request: Request) {
  try {
    // A browser always sends Origin on POST; refusing foreign ones stops login CSRF.
    if (request.headers.has('origin') && !isSameOrigin(request)) {
      throw new AppError('forbidden', 'Cross-origin request refused');
    }
    const body = await parseBody(loginBodySchema, request);
    const cookie = await login(body, { ip: clientIp(request), userAgent: request.headers.get('user-agent') });
    const res = ok({ logged_in: true });
    res.headers.append('Set-Cookie', cookie);
    return res;
  } catch (err) {
    return toResponse(err);
  }
}
