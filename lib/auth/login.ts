import { insertAudit } from '@/db/queries/audit';
import { countUsers, findUserForLogin } from '@/db/queries/users';
import { clientKey } from '@/lib/api/client-ip';
import { getDb } from '@/lib/db';
import { AppError } from '@/lib/errors';
import { BOOTSTRAP_EMAIL } from './bootstrap';
import { hashPassword, verifyHash } from './password';
import { loginLimiters } from './rate-limit';
import { createSession, destroySession, sessionCookie } from './session';

export type LoginInput = { email?: string; password: string };
export type LoginClient = { ip: string; userAgent: string | null };

// Checked when the email is unknown, so a wrong email costs the same time as a wrong password.
let dummyHash: Promise<string> | undefined;

/**
 * Checks email and password and opens a session; returns the Set-Cookie value. Failures count
 * against the client's address and the account, each with its own cap, and are audited. Without an
 * email, the bootstrap admin is meant, as long as it is the only user (the single-password login).
 */
export async function login(input: LoginInput, client: LoginClient): Promise<string> {
  const db = await getDb();
  const email = input.email?.trim().toLowerCase() ?? (await soleBootstrapEmail());
  const { perClient, perAccount, blocksAudited } = loginLimiters();
  const from = clientKey(client.ip);
  const clientWait = perClient.retryAfterS(from);
  const wait = clientWait ?? perAccount.retryAfterS(email);
  if (wait !== null) {
    // One audit row per block and window, however often a blocked client keeps trying.
    const blockKey = clientWait !== null ? `client:${from}` : `account:${email}`;
    if (blocksAudited.retryAfterS(blockKey) === null) {
      blocksAudited.fail(blockKey);
      await insertAudit(db, { actor: email, ip: client.ip }, 'login_failed', null, null, {
        result: 'refused',
        code: 'rate_limited',
      });
    }
    throw new AppError('rate_limited', `Too many failed logins; try again in ${wait} s`, {
      retryAfterS: wait,
    });
  }
  // Counted as a failure before the password is checked (scrypt takes a while, and nothing may wait
  // between the check above and this count): attempts sent at once meet the cap as a sequence does.
  // A success takes back this address's failures at this account only, so logging in to one's own
  // account does not clear guesses at another.
  const undo = [perClient.fail(from, email), perAccount.fail(email, from)];
  let user: Awaited<ReturnType<typeof findUserForLogin>>;
  let good: boolean;
  try {
    user = await findUserForLogin(db, email);
    dummyHash ??= hashPassword('not a password');
    good = await verifyHash(input.password, user?.passwordHash ?? (await dummyHash));
  } catch (err) {
    // The check itself failed (the database is down, say): no password was wrong.
    for (const u of undo) u();
    throw err;
  }
  if (!user || !good || user.disabledAt !== null) {
    const code = user?.disabledAt && good ? 'user_disabled' : 'unauthorized';
    await insertAudit(db, { actor: email, ip: client.ip }, 'login_failed', null, null, {
      result: 'refused',
      code,
    });
    // The same answer for an unknown email, a wrong password and a disabled user: no account probing.
    throw new AppError('unauthorized', input.email ? 'Wrong email or password' : 'Wrong password');
  }
  perClient.forgive(from, email);
  perAccount.forgive(email, from);
  const { token, expiresAt } = await createSession(user.id, client);
  await insertAudit(db, { actor: user.email, ip: client.ip }, 'login', null);
  return sessionCookie(token, expiresAt);
}

/** The bootstrap admin's email while it is the only user; otherwise an email is required. */
async function soleBootstrapEmail(): Promise<string> {
  const db = await getDb();
  if ((await countUsers(db)) === 1 && (await findUserForLogin(db, BOOTSTRAP_EMAIL))) return BOOTSTRAP_EMAIL;
  throw new AppError('bad_request', 'Invalid body: email: required (this dashboard has several users)', {
    issues: [{ path: 'email', message: 'required' }],
  });
}

export async function logout(token: string | null, who: { actor: string; ip: string }): Promise<void> {
  await destroySession(token);
  await insertAudit(await getDb(), who, 'logout', null);
}
