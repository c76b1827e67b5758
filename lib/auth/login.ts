import { insertAudit } from '@/db/queries/audit';
import { getDb } from '@/lib/db';
import { AppError } from '@/lib/errors';
import { checkPassword } from './password';
import { loginLimiters } from './rate-limit';
import { createSession, destroySession, sessionCookie } from './session';

/**
 * Checks the password (failures rate-limited per IP and in all, and audited) and opens a session. Returns the
 * Set-Cookie value.
 */
export async function login(password: string, ip: string): Promise<string> {
  const { perIp, all } = loginLimiters();
  const wait = perIp.retryAfterS(ip) ?? all.retryAfterS('all');
  if (wait !== null) {
    throw new AppError('rate_limited', `Too many failed logins; try again in ${wait} s`, {
      retryAfterS: wait,
    });
  }
  const db = await getDb();
  if (!(await checkPassword(password))) {
    perIp.fail(ip);
    all.fail('all');
    await insertAudit(db, { actor: 'dashboard', ip }, 'login_failed', null);
    throw new AppError('unauthorized', 'Wrong password');
  }
  perIp.reset(ip);
  const { token, expiresAt } = await createSession();
  await insertAudit(db, { actor: 'dashboard', ip }, 'login', null);
  return sessionCookie(token, expiresAt);
}

export async function logout(token: string | null, actor: string, ip: string): Promise<void> {
  await destroySession(token);
  await insertAudit(await getDb(), { actor, ip }, 'logout', null);
}
