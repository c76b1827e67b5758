import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import { isValidSession, SESSION_COOKIE } from './session';

/** For pages' server components: redirects to /login unless the session cookie is valid. */
export async function requirePageSession(next: string): Promise<void> {
  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  if (!(await isValidSession(token))) redirect(`/login?next=${encodeURIComponent(next)}`);
}

export async function hasPageSession(): Promise<boolean> {
  return isValidSession((await cookies()).get(SESSION_COOKIE)?.value);
}
