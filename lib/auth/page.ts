import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import type { Role } from './roles';
import { SESSION_COOKIE, sessionUser } from './session';

export type PageUser = { email: string; role: Role };

/** For pages' server components: the session's user, or a redirect to /login. */
export async function requirePageSession(next: string): Promise<PageUser> {
  const user = await sessionUser((await cookies()).get(SESSION_COOKIE)?.value);
  if (!user) redirect(`/login?next=${encodeURIComponent(next)}`);
  return { email: user.email, role: user.role };
}

export async function hasPageSession(): Promise<boolean> {
  return (await sessionUser((await cookies()).get(SESSION_COOKIE)?.value)) !== null;
}
