import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { type Db, type DbHandle, openDb } from '@/db/client';
import { insertAudit } from '@/db/queries/audit';
import { sessionPrincipal, tokenPrincipal } from '@/db/queries/users';
import { apiTokens, auditLog, events, settings, userSessions, users } from '@/db/schema';
import { BOOTSTRAP_EMAIL, ensureBootstrapAdmin, LEGACY_PASSWORD_SETTING } from '@/lib/auth/bootstrap';
import { login } from '@/lib/auth/login';
import { hashPassword, verifyHash } from '@/lib/auth/password';
import {
  changePassword,
  createToken,
  createUser,
  resetPassword,
  revokeTokenOf,
  updateUser,
} from '@/lib/auth/people';
import {
  LOGIN_MAX_FAILURES_PER_ACCOUNT,
  LOGIN_MAX_FAILURES_PER_CLIENT,
  loginLimiters,
} from '@/lib/auth/rate-limit';
import { authenticate } from '@/lib/auth/require';
import { createSession, hashToken, SESSION_COOKIE } from '@/lib/auth/session';
import { AppError } from '@/lib/errors';
import { openTestDb, type TestDb } from './helpers/db';

// lib/auth reads the process-wide database (getDb); point it at this file's scratch database.
const shared = ((globalThis as { __skylightDb?: { handle?: Promise<DbHandle> } }).__skylightDb ??= {});

const MIGRATIONS = path.join(process.cwd(), 'db', 'migrations');
const admin = { actor: 'admin@test', ip: '127.0.0.1' };
const client = (ip: string) => ({ ip, userAgent: 'test' });

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
  return 'ok';
}

function cookieToken(setCookie: string) {
  return new RegExp(`^${SESSION_COOKIE}=([^;]+)`).exec(setCookie)![1]!;
}

function request(method: string, headers: Record<string, string>) {
  return new Request('http://app.test/api/x', { method, headers: { host: 'app.test', ...headers } });
}

describe('upgrade from the single-password dashboard', () => {
  let dir: string;
  let h: DbHandle & { drop?: () => Promise<void> };
  let pgUrl: string | undefined;

  before(async () => {
    // The migrations as they were before users existed (0000-0005), in a folder of their own.
    dir = mkdtempSync(path.join(tmpdir(), 'old-migrations-'));
    cpSync(MIGRATIONS, dir, { recursive: true });
    const journalPath = path.join(dir, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as {
      entries: { idx: number; tag: string }[];
    };
    const firstNew = journal.entries.findIndex((e) => e.tag.endsWith('_users_roles'));
    assert.ok(firstNew > 0, 'the users migration is in the journal');
    for (const e of journal.entries.slice(firstNew)) rmSync(path.join(dir, `${e.tag}.sql`));
    journal.entries = journal.entries.slice(0, firstNew);
    writeFileSync(journalPath, JSON.stringify(journal));

    const url = process.env.TEST_DATABASE_URL;
    if (url) {
      const name = `t_${randomBytes(6).toString('hex')}`;
      const s = postgres(url, { max: 1, onnotice: () => {} });
      await s.unsafe(`create database ${name}`);
      const u = new URL(url);
      u.pathname = `/${name}`;
      const raw = postgres(u.toString(), { max: 1, onnotice: () => {} });
      const { drizzle } = await import('drizzle-orm/postgres-js');
      await migratePostgres(drizzle(raw), { migrationsFolder: dir });
      await raw.end();
      pgUrl = u.toString();
      h = await openDb({ url: pgUrl, migrate: false });
      h.drop = async () => {
        await s.unsafe(`drop database if exists ${name} with (force)`);
        await s.end();
      };
    } else {
      h = await openDb({ pgliteDir: 'memory://', migrate: false });
      await migratePglite(h.db as never, { migrationsFolder: dir });
    }
  });

  after(async () => {
    shared.handle = undefined;
    await h.close();
    await h.drop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a database from before users keeps its password after the migrations and the bootstrap', async () => {
    // What the old app stored: the generated password's scrypt hash, a session, an audit row.
    const oldPassword = 'the-old-generated-password';
    await h.db.insert(settings).values([
      { key: LEGACY_PASSWORD_SETTING, value: await hashPassword(oldPassword) },
      { key: `session:${'a'.repeat(64)}`, value: new Date(Date.now() + 3_600_000).toISOString() },
    ]);
    await h.db.execute(
      `insert into audit_log (actor, action, target, ip) values ('dashboard', 'dlq_retry', '7', '10.0.0.1')` as never,
    );

    // Upgrade: what the app does at start (openDb applies every migration), then the bootstrap.
    if (h.kind === 'pglite') await migratePglite(h.db as never, { migrationsFolder: MIGRATIONS });
    else {
      await h.close();
      h = { ...(await openDb({ url: pgUrl! })), drop: h.drop };
    }
    const upgraded = h;
    shared.handle = Promise.resolve(upgraded);
    assert.equal(await ensureBootstrapAdmin(upgraded.db, undefined), 'from_legacy');

    const [user] = await upgraded.db.select().from(users);
    assert.equal(user?.email, BOOTSTRAP_EMAIL);
    assert.equal(user?.role, 'admin');
    assert.equal(
      (
        await upgraded.db
          .select()
          .from(settings)
          .where(eq(settings.key, `session:${'a'.repeat(64)}`))
      ).length,
      0,
      'sessions of the old scheme are gone',
    );

    assert.equal(await code(login({ password: 'wrong-password' }, client('10.9.9.1'))), 'unauthorized');
    const cookie = await login({ password: oldPassword }, client('10.9.9.2'));
    const who = await authenticate(request('GET', { cookie: `${SESSION_COOKIE}=${cookieToken(cookie)}` }));
    assert.equal(who.actor, BOOTSTRAP_EMAIL);
    assert.equal(who.role, 'admin');

    const [old] = await upgraded.db.select().from(auditLog).where(eq(auditLog.action, 'dlq_retry'));
    assert.equal(old?.actor, 'dashboard');
    assert.equal(old?.result, 'ok', 'old audit rows read as succeeded changes');
    assert.equal(
      await ensureBootstrapAdmin(upgraded.db, undefined),
      'exists',
      'a second start creates nobody',
    );
  });
});

describe('people, sessions and tokens', () => {
  let h: TestDb;
  let db: Db;
  // On Postgres, a second pool stands for another replica; PGlite is one process, so the same handle.
  let other: DbHandle | null = null;
  let replica: Db;

  before(async () => {
    h = await openTestDb();
    db = h.db;
    shared.handle = Promise.resolve(h);
    other = h.url ? await openDb({ url: h.url, migrate: false }) : null;
    replica = other?.db ?? db;
  });
  after(async () => {
    shared.handle = undefined;
    await other?.close();
    await h.close();
  });
  beforeEach(() => {
    (globalThis as { __skylightLoginLimiters?: unknown }).__skylightLoginLimiters = undefined;
  });

  test('bootstrap: generated once, concurrent starts create one admin, {password} alone works only while alone', async () => {
    const results = await Promise.all([
      ensureBootstrapAdmin(db, 'env-password-1'),
      ensureBootstrapAdmin(db, 'env-password-1'),
    ]);
    assert.deepEqual(results.filter((r) => r === 'from_env').length, 1, JSON.stringify(results));
    assert.equal((await db.select().from(users)).length, 1);
    await login({ password: 'env-password-1' }, client('10.1.0.1'));

    await createUser(admin, { email: 'Second@Test.example', role: 'viewer', password: 'second-password-12' });
    assert.equal(await code(login({ password: 'env-password-1' }, client('10.1.0.1'))), 'bad_request');
    await login({ email: BOOTSTRAP_EMAIL, password: 'env-password-1' }, client('10.1.0.1'));
    await login({ email: 'second@test.example', password: 'second-password-12' }, client('10.1.0.1'));
    assert.equal(await code(createUser(admin, { email: 'second@test.example', role: 'admin' })), 'conflict');
  });

  test('a created user without a password gets a one-time one; only its hash is stored', async () => {
    const { user, password } = await createUser(admin, { email: 'otp@test.example', role: 'operator' });
    assert.ok(password && password.length >= 20);
    const [row] = await db.select().from(users).where(eq(users.id, user.id));
    assert.match(row!.passwordHash, /^scrypt\$/);
    assert.ok(!row!.passwordHash.includes(password));
    await login({ email: 'otp@test.example', password }, client('10.1.0.2'));
    const [audit] = await db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'user_create'))
      .orderBy(desc(auditLog.id));
    assert.equal(audit?.target, 'otp@test.example');
    assert.equal(audit?.actor, admin.actor);
  });

  test('disabling a user ends its sessions and tokens at once, on another replica too', async () => {
    const { user } = await createUser(admin, {
      email: 'gone@test.example',
      role: 'operator',
      password: 'gone-password-12',
    });
    const cookie = cookieToken(
      await login({ email: 'gone@test.example', password: 'gone-password-12' }, client('10.1.0.3')),
    );
    const who = await authenticate(request('GET', { cookie: `${SESSION_COOKIE}=${cookie}` }));
    const { token } = await createToken(
      { ...who, userId: user.id, ip: '10.1.0.3' },
      { name: 'ci', role: 'viewer' },
    );
    assert.ok(await sessionPrincipal(replica, hashToken(cookie)));
    assert.ok(await tokenPrincipal(replica, hashToken(token)));
    await updateUser(admin, user.id, { disabled: true });
    assert.equal(await sessionPrincipal(replica, hashToken(cookie)), null);
    assert.equal(await tokenPrincipal(replica, hashToken(token)), null);
    assert.equal((await db.select().from(userSessions).where(eq(userSessions.userId, user.id))).length, 0);
    assert.equal(
      await code(authenticate(request('GET', { authorization: `Bearer ${token}` }))),
      'unauthorized',
    );
    // A disabled user cannot log in, and is told nothing more than a wrong password would be.
    assert.equal(
      await code(login({ email: 'gone@test.example', password: 'gone-password-12' }, client('10.1.0.3'))),
      'unauthorized',
    );
    await updateUser(admin, user.id, { disabled: false });
    await login({ email: 'gone@test.example', password: 'gone-password-12' }, client('10.1.0.3'));
  });

  test('a password change ends every session of the user and opens a new one', async () => {
    const { user } = await createUser(admin, {
      email: 'pw@test.example',
      role: 'viewer',
      password: 'first-password-12',
    });
    const a = cookieToken(
      await login({ email: 'pw@test.example', password: 'first-password-12' }, client('10.1.0.4')),
    );
    const b = cookieToken(
      await login({ email: 'pw@test.example', password: 'first-password-12' }, client('10.1.0.5')),
    );
    const who = { actor: 'pw@test.example', ip: '10.1.0.4', userId: user.id };
    assert.equal(
      await code(changePassword(who, { current: 'nope', next: 'second-password-12' }, client('10.1.0.4'))),
      'bad_request',
    );
    assert.ok(await sessionPrincipal(db, hashToken(a)), 'a wrong current password changes nothing');
    const fresh = await changePassword(
      who,
      { current: 'first-password-12', next: 'second-password-12' },
      client('10.1.0.4'),
    );
    assert.equal(await sessionPrincipal(replica, hashToken(a)), null);
    assert.equal(await sessionPrincipal(replica, hashToken(b)), null);
    assert.ok(await sessionPrincipal(replica, hashToken(fresh.token)));
    assert.equal(
      await code(login({ email: 'pw@test.example', password: 'first-password-12' }, client('10.1.0.4'))),
      'unauthorized',
    );
    await login({ email: 'pw@test.example', password: 'second-password-12' }, client('10.1.0.4'));
  });

  test('tokens: role capped by the owner now, revoked refused at once, last use recorded', async () => {
    const { user } = await createUser(admin, {
      email: 'tok@test.example',
      role: 'operator',
      password: 'tok-password-12',
    });
    const owner = { actor: 'tok@test.example', ip: '10.1.0.6', userId: user.id, role: 'operator' as const };
    assert.equal(await code(createToken(owner, { name: 'too-high', role: 'admin' })), 'forbidden');
    const t = await createToken(owner, { name: 'deploy', role: 'operator' });
    assert.match(t.token, /^swo_[A-Za-z0-9_-]{43}$/);
    const viaToken = await authenticate(request('POST', { authorization: `Bearer ${t.token}` }));
    assert.equal(viaToken.role, 'operator');
    assert.equal(viaToken.tokenName, 'deploy');
    await updateUser(admin, user.id, { role: 'viewer' });
    assert.equal((await authenticate(request('GET', { authorization: `Bearer ${t.token}` }))).role, 'viewer');
    assert.ok(await tokenPrincipal(replica, hashToken(t.token)));
    await revokeTokenOf(owner, t.id);
    assert.equal(await tokenPrincipal(replica, hashToken(t.token)), null, 'refused on the other replica too');
    assert.equal(
      await code(authenticate(request('GET', { authorization: `Bearer ${t.token}` }))),
      'unauthorized',
    );
    assert.equal(
      await code(revokeTokenOf({ ...owner, userId: 999_999 }, t.id)),
      'not_found',
      'only your own',
    );
  });

  test('wrong current passwords count against the account and are audited; a burst meets the cap', async () => {
    const { user } = await createUser(admin, {
      email: 'guess@test.example',
      role: 'viewer',
      password: 'guess-password-12',
    });
    const who = { actor: 'guess@test.example', ip: '10.1.0.9', userId: user.id };
    const change = (current: string) =>
      code(changePassword(who, { current, next: 'new-guess-password-12' }, client('10.1.0.9')));
    const answers = await Promise.all(Array.from({ length: 25 }, (_, i) => change(`guess-${i}`)));
    assert.equal(answers.filter((c) => c === 'bad_request').length, LOGIN_MAX_FAILURES_PER_ACCOUNT);
    assert.equal(answers.filter((c) => c === 'rate_limited').length, 25 - LOGIN_MAX_FAILURES_PER_ACCOUNT);
    assert.equal(await change('guess-password-12'), 'rate_limited', 'the right password waits too');
    assert.equal(
      await code(login({ email: 'guess@test.example', password: 'guess-password-12' }, client('10.1.0.10'))),
      'rate_limited',
      'the same cap as logins to that account',
    );
    const refused = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'password_change'), eq(auditLog.actor, 'guess@test.example')));
    assert.equal(refused.length, LOGIN_MAX_FAILURES_PER_ACCOUNT);
    assert.ok(refused.every((r) => r.result === 'refused' && r.code === 'wrong_password'));
    const [row] = await db.select().from(users).where(eq(users.id, user.id));
    assert.ok(await verifyHash('guess-password-12', row!.passwordHash), 'the password did not change');
  });

  test('disabling a person revokes their tokens: enabled again, they come back with none', async () => {
    const { user } = await createUser(admin, {
      email: 'stolen@test.example',
      role: 'operator',
      password: 'stolen-password-12',
    });
    const owner = {
      actor: 'stolen@test.example',
      ip: '10.1.0.11',
      userId: user.id,
      role: 'operator' as const,
    };
    const t = await createToken(owner, { name: 'made-by-intruder', role: 'operator' });
    await updateUser(admin, user.id, { disabled: true });
    await updateUser(admin, user.id, { disabled: false });
    assert.equal(await tokenPrincipal(replica, hashToken(t.token)), null);
    const [row] = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'user_update'), eq(auditLog.target, 'stolen@test.example')))
      .orderBy(auditLog.id)
      .limit(1);
    assert.deepEqual(row?.detail, { disabled: true, tokens_revoked: 1 });
  });

  test('a token, session or password written as the account is disabled is refused, even mid-request', async () => {
    const { user } = await createUser(admin, {
      email: 'slow@test.example',
      role: 'operator',
      password: 'slow-password-12',
    });
    // What the route authenticated before the body arrived: a live operator.
    const who = { actor: 'slow@test.example', ip: '10.1.0.12', userId: user.id, role: 'operator' as const };
    const tokensOf = async () =>
      (await db.select().from(apiTokens).where(eq(apiTokens.userId, user.id))).length;
    const sessionsOf = async () =>
      (await db.select().from(userSessions).where(eq(userSessions.userId, user.id))).length;
    const [{ h: hashBefore }] = (await db
      .select({ h: users.passwordHash })
      .from(users)
      .where(eq(users.id, user.id))) as [{ h: string }];

    // The disable holds the person's row while a token is being made: the token waits, then is refused.
    let pending: Promise<string> | null = null;
    await replica.transaction(async (tx) => {
      await tx.execute(sql`select id from users where id = ${user.id} for update`);
      pending = code(createToken(who, { name: 'backdoor', role: 'operator' }));
      await new Promise((r) => setTimeout(r, 100));
      await tx.update(users).set({ disabledAt: sql`now()` }).where(eq(users.id, user.id));
    });
    assert.equal(await pending!, 'unauthorized');
    assert.equal(await tokensOf(), 0);

    // Disabled by now: a password change and a session opened after the check are refused too.
    assert.equal(
      await code(
        changePassword(
          who,
          { current: 'slow-password-12', next: 'intruder-password-12' },
          client('10.1.0.12'),
        ),
      ),
      'unauthorized',
    );
    const [{ h: hashAfter }] = (await db
      .select({ h: users.passwordHash })
      .from(users)
      .where(eq(users.id, user.id))) as [{ h: string }];
    assert.equal(hashAfter, hashBefore, 'the password is unchanged');
    assert.equal(await code(createSession(user.id, client('10.1.0.12'))), 'unauthorized');
    assert.equal(await sessionsOf(), 0);
    const made = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.actor, 'slow@test.example'), eq(auditLog.result, 'ok')));
    assert.deepEqual(made, [], 'nothing audited as done');

    // Enabled again but demoted: a token asked for at the old role is capped by the role now.
    await db.update(users).set({ disabledAt: null, role: 'viewer' }).where(eq(users.id, user.id));
    assert.equal(await code(createToken(who, { name: 'old-role', role: 'operator' })), 'forbidden');
    assert.equal(await tokensOf(), 0);
  });

  test('an API token cannot make tokens: revoking a leaked one leaves none behind', async () => {
    const { user } = await createUser(admin, {
      email: 'leak@test.example',
      role: 'operator',
      password: 'leak-password-12',
    });
    const t = await createToken(
      { actor: 'leak@test.example', ip: null, userId: user.id, role: 'operator' },
      { name: 'ci', role: 'operator' },
    );
    const { POST } = await import('@/app/api/me/tokens/route');
    const res = await POST(
      new Request('http://app.test/api/me/tokens', {
        method: 'POST',
        headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'ci-2', role: 'operator' }),
      }),
      { params: Promise.resolve({}) },
    );
    assert.equal(res.status, 403);
    assert.match((await res.json()).error.message, /from a logged-in session/);
    assert.equal((await db.select().from(apiTokens).where(eq(apiTokens.userId, user.id))).length, 1);
  });

  test('changes that change nothing are not audited; a conflict refused by the API is', async () => {
    const { user } = await createUser(admin, {
      email: 'noop@test.example',
      role: 'operator',
      password: 'noop-password-12',
    });
    const owner = { actor: 'noop@test.example', ip: null, userId: user.id, role: 'operator' as const };
    const audited = async (action: 'user_update' | 'token_revoke', target: string) =>
      (
        await db
          .select()
          .from(auditLog)
          .where(and(eq(auditLog.action, action), eq(auditLog.target, target)))
      ).length;
    await updateUser(admin, user.id, { role: 'operator' });
    await updateUser(admin, user.id, { disabled: false });
    assert.equal(await audited('user_update', 'noop@test.example'), 0);
    await updateUser(admin, user.id, { role: 'viewer', disabled: false });
    const [row] = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'user_update'), eq(auditLog.target, 'noop@test.example')));
    assert.deepEqual(row?.detail, { role: { from: 'operator', to: 'viewer' } }, 'only what changed');

    const t = await createToken({ ...owner, role: 'viewer' }, { name: 'twice', role: 'viewer' });
    await revokeTokenOf(owner, t.id);
    const again = await revokeTokenOf(owner, t.id);
    assert.ok(again.revoked_at, 'answered as revoked');
    assert.equal(await audited('token_revoke', 'twice'), 1);

    // An admin adding an email that exists: 409, and the audit has the refusal with its code.
    const a = await createUser(admin, {
      email: 'noop-admin@test.example',
      role: 'admin',
      password: 'noop-admin-pw-12',
    });
    const at = await createToken(
      { actor: 'noop-admin@test.example', ip: null, userId: a.user.id, role: 'admin' },
      { name: 'people', role: 'admin' },
    );
    const { POST } = await import('@/app/api/users/route');
    const res = await POST(
      new Request('http://app.test/api/users', {
        method: 'POST',
        headers: { authorization: `Bearer ${at.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'noop@test.example', role: 'viewer' }),
      }),
      { params: Promise.resolve({}) },
    );
    assert.equal(res.status, 409);
    const [refusal] = await db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(1);
    assert.equal(refusal?.action, 'request_refused');
    assert.equal(refusal?.actor, 'noop-admin@test.example');
    assert.equal(refusal?.code, 'conflict');
    assert.equal(refusal?.target, 'POST /api/users');
    // The tests after this one count the admins.
    await db.update(users).set({ role: 'viewer' }).where(eq(users.id, a.user.id));
  });

  test('an admin resets a password: a one-time one, every session ends, tokens stay, audited', async () => {
    const { user } = await createUser(admin, {
      email: 'forgot@test.example',
      role: 'viewer',
      password: 'forgot-password-12',
    });
    const cookie = cookieToken(
      await login({ email: 'forgot@test.example', password: 'forgot-password-12' }, client('10.1.0.13')),
    );
    const t = await createToken(
      { actor: 'forgot@test.example', ip: null, userId: user.id, role: 'viewer' },
      { name: 'cron', role: 'viewer' },
    );
    const { password } = await resetPassword(admin, user.id);
    assert.ok(password.length >= 20);
    assert.equal(await sessionPrincipal(replica, hashToken(cookie)), null, 'the session ended');
    assert.ok(await tokenPrincipal(replica, hashToken(t.token)), 'the token stays');
    assert.equal(
      await code(
        login({ email: 'forgot@test.example', password: 'forgot-password-12' }, client('10.1.0.13')),
      ),
      'unauthorized',
    );
    await login({ email: 'forgot@test.example', password }, client('10.1.0.13'));
    const [row] = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'password_reset'), eq(auditLog.target, 'forgot@test.example')));
    assert.equal(row?.actor, admin.actor);
    assert.deepEqual(row?.detail, { sessions_ended: 1 });
    assert.equal(await code(resetPassword(admin, 999_999)), 'not_found');
    // Not with an API token, even an admin's: a leaked one must not take over accounts.
    const boss = await createUser(admin, {
      email: 'boss@test.example',
      role: 'admin',
      password: 'boss-password-123',
    });
    const bossToken = await createToken(
      { actor: 'boss@test.example', ip: null, userId: boss.user.id, role: 'admin' },
      { name: 'scripts', role: 'admin' },
    );
    const { POST } = await import('@/app/api/users/[id]/password/route');
    const res = await POST(
      new Request(`http://app.test/api/users/${user.id}/password`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bossToken.token}` },
      }),
      { params: Promise.resolve({ id: String(user.id) }) },
    );
    assert.equal(res.status, 403);
    assert.match((await res.json()).error.message, /from a logged-in session/);
    await login({ email: 'forgot@test.example', password }, client('10.1.0.13'));
    await db.update(users).set({ role: 'viewer' }).where(eq(users.id, boss.user.id));
  });

  test('a password change in flight when an admin resets the password does not undo the reset', async () => {
    const { user } = await createUser(admin, {
      email: 'race-reset@test.example',
      role: 'operator',
      password: 'known-to-intruder-12',
    });
    const who = { actor: 'race-reset@test.example', ip: '10.1.0.14', userId: user.id };
    let pending: Promise<string> | null = null;
    await replica.transaction(async (tx) => {
      // The admin's reset holds the row while the intruder's change (checked against the old
      // password) is on its way.
      await tx.execute(sql`select id from users where id = ${user.id} for update`);
      pending = code(
        changePassword(
          who,
          { current: 'known-to-intruder-12', next: 'intruder-choice-12' },
          client('10.1.0.14'),
        ),
      );
      await new Promise((r) => setTimeout(r, 150));
      await tx
        .update(users)
        .set({ passwordHash: await hashPassword('set-by-the-admin-12') })
        .where(eq(users.id, user.id));
    });
    // Postgres: the change read the old hash, then finds it replaced (conflict). PGlite runs one
    // transaction at a time, so the change reads the new hash and the old password is wrong.
    assert.ok(['conflict', 'bad_request'].includes(await pending!), 'refused');
    assert.equal(
      await code(
        login({ email: 'race-reset@test.example', password: 'intruder-choice-12' }, client('10.1.0.14')),
      ),
      'unauthorized',
    );
    await login({ email: 'race-reset@test.example', password: 'set-by-the-admin-12' }, client('10.1.0.14'));
    // Two changes at once by the person (a double submit): one wins, neither deadlocks.
    const me = { ...who, ip: '10.1.0.15' };
    const both = await Promise.all([
      code(
        changePassword(
          me,
          { current: 'set-by-the-admin-12', next: 'first-tab-pass-12' },
          client('10.1.0.15'),
        ),
      ),
      code(
        changePassword(
          me,
          { current: 'set-by-the-admin-12', next: 'second-tab-pass-12' },
          client('10.1.0.15'),
        ),
      ),
    ]);
    assert.deepEqual(both.filter((c) => c === 'ok').length, 1, JSON.stringify(both));
  });

  test('two admins demoting each other at once leave one admin', async () => {
    const a = await createUser(admin, {
      email: 'race-a@test.example',
      role: 'admin',
      password: 'race-a-password-12',
    });
    const b = await createUser(admin, {
      email: 'race-b@test.example',
      role: 'admin',
      password: 'race-b-password-12',
    });
    // The bootstrap admin steps down first, so these two are the only active admins.
    const [boot] = await db.select().from(users).where(eq(users.email, BOOTSTRAP_EMAIL));
    await updateUser(admin, boot!.id, { role: 'operator' });
    try {
      const results = await Promise.allSettled([
        updateUser({ actor: 'race-a@test.example', ip: null }, b.user.id, { role: 'viewer' }),
        updateUser({ actor: 'race-b@test.example', ip: null }, a.user.id, { disabled: true }),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.ok(refused.reason instanceof AppError && refused.reason.code === 'conflict');
      const admins = await db
        .select()
        .from(users)
        .where(and(eq(users.role, 'admin'), isNull(users.disabledAt)));
      assert.equal(admins.length, 1);
    } finally {
      for (const u of [a.user, b.user])
        await db.update(users).set({ role: 'viewer', disabledAt: null }).where(eq(users.id, u.id));
      await db.update(users).set({ role: 'admin' }).where(eq(users.id, boot!.id));
    }
  });

  test('the last active admin cannot be demoted or disabled', async () => {
    const admins = await db.select().from(users).where(eq(users.role, 'admin'));
    const [only] = admins;
    assert.equal(admins.length, 1);
    assert.equal(await code(updateUser(admin, only!.id, { role: 'viewer' })), 'conflict');
    assert.equal(await code(updateUser(admin, only!.id, { disabled: true })), 'conflict');
    const { user } = await createUser(admin, {
      email: 'admin2@test.example',
      role: 'admin',
      password: 'admin2-password-12',
    });
    await updateUser(admin, only!.id, { role: 'operator' });
    await updateUser(admin, only!.id, { role: 'admin' });
    await updateUser(admin, user.id, { disabled: true });
  });

  test('login limits: per client and per account, X-Forwarded-For changes nothing, no global lockout', async () => {
    await createUser(admin, { email: 'victim@test.example', role: 'viewer', password: 'victim-password-12' });
    await createUser(admin, {
      email: 'bystander@test.example',
      role: 'viewer',
      password: 'bystander-password-12',
    });
    const wrong = (email: string, ip: string) =>
      code(login({ email, password: 'wrong-password' }, client(ip)));

    // One attacker address: blocked after the per-client cap, for every account.
    for (let i = 0; i < LOGIN_MAX_FAILURES_PER_CLIENT; i++)
      assert.equal(await wrong('victim@test.example', '6.6.6.6'), 'unauthorized');
    assert.equal(await wrong('victim@test.example', '6.6.6.6'), 'rate_limited');
    assert.equal(
      await code(
        login({ email: 'bystander@test.example', password: 'bystander-password-12' }, client('6.6.6.6')),
      ),
      'rate_limited',
    );
    // ...but it has not locked the victim out: the victim's own address logs in.
    await login({ email: 'victim@test.example', password: 'victim-password-12' }, client('10.2.0.1'));

    // Many addresses against one account: the account cap stops them; other accounts are unaffected.
    let n = LOGIN_MAX_FAILURES_PER_CLIENT;
    for (let ip = 1; n < LOGIN_MAX_FAILURES_PER_ACCOUNT; ip++) {
      for (let i = 0; i < 4 && n < LOGIN_MAX_FAILURES_PER_ACCOUNT; i++, n++) {
        assert.equal(await wrong('victim@test.example', `7.7.7.${ip}`), 'unauthorized');
      }
    }
    assert.equal(await wrong('victim@test.example', '7.7.8.1'), 'rate_limited');
    await login({ email: 'bystander@test.example', password: 'bystander-password-12' }, client('7.7.8.1'));

    // Hundreds of failures on other accounts from many addresses: no global cap locks anyone out.
    for (let i = 0; i < 200; i++) await wrong(`nobody${i}@test.example`, `8.8.${i >> 2}.${i}`);
    await login({ email: 'bystander@test.example', password: 'bystander-password-12' }, client('9.9.9.9'));
    assert.ok(loginLimiters().perClient.size <= 10_000);

    // Blocked clients keep trying: the audit gets one row per block, not one per attempt.
    for (let i = 0; i < 50; i++) await wrong('victim@test.example', '6.6.6.6');
    const refused = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.code, 'rate_limited'), sql`${auditLog.ip} like any (array['6.%', '7.%'])`))
      .orderBy(desc(auditLog.id));
    // (This test's addresses: other tests' blocks have theirs.)
    assert.deepEqual(refused.map((r) => r.ip).sort(), ['6.6.6.6', '7.7.8.1']);
    assert.equal(refused.at(-1)?.ip, '6.6.6.6');
    assert.equal(refused.at(-1)?.result, 'refused');
  });

  test('login limits hold for attempts sent at once, and a success forgives only its own failures', async () => {
    await createUser(admin, { email: 'burst@test.example', role: 'viewer', password: 'burst-password-12' });
    await createUser(admin, { email: 'own@test.example', role: 'viewer', password: 'own-password-12' });
    // Thirty guesses in flight at once from one address: the password check is slow, so a cap that
    // counted only after it would let all thirty through.
    const burst = await Promise.all(
      Array.from({ length: 30 }, () =>
        code(login({ email: 'burst@test.example', password: 'wrong-password' }, client('5.5.5.1'))),
      ),
    );
    assert.equal(burst.filter((c) => c === 'unauthorized').length, LOGIN_MAX_FAILURES_PER_CLIENT);
    assert.equal(burst.filter((c) => c === 'rate_limited').length, 30 - LOGIN_MAX_FAILURES_PER_CLIENT);
    const tried = await db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.action, 'login_failed'),
          eq(auditLog.ip, '5.5.5.1'),
          eq(auditLog.code, 'unauthorized'),
        ),
      );
    assert.equal(tried.length, LOGIN_MAX_FAILURES_PER_CLIENT, 'only the counted attempts were checked');

    // Guesses at one account, then a login to the guesser's own: the guesses still count.
    const wrong = () => code(login({ email: 'burst@test.example', password: 'wrong' }, client('5.5.5.2')));
    for (let i = 0; i < LOGIN_MAX_FAILURES_PER_CLIENT - 1; i++) assert.equal(await wrong(), 'unauthorized');
    await login({ email: 'own@test.example', password: 'own-password-12' }, client('5.5.5.2'));
    assert.equal(await wrong(), 'unauthorized');
    assert.equal(await wrong(), 'rate_limited');

    // A person's own typos are forgiven by their own login.
    const typo = () => code(login({ email: 'own@test.example', password: 'typo' }, client('5.5.5.3')));
    for (let i = 0; i < LOGIN_MAX_FAILURES_PER_CLIENT - 1; i++) assert.equal(await typo(), 'unauthorized');
    await login({ email: 'own@test.example', password: 'own-password-12' }, client('5.5.5.3'));
    for (let i = 0; i < LOGIN_MAX_FAILURES_PER_CLIENT; i++) assert.equal(await typo(), 'unauthorized');
    assert.equal(await typo(), 'rate_limited');
  });

  test('the route wrapper refuses a role that is too low, and audits the refusal with the caller', async () => {
    const { user } = await createUser(admin, {
      email: 'viewer@test.example',
      role: 'viewer',
      password: 'viewer-password-12',
    });
    const t = await createToken(
      { actor: 'viewer@test.example', ip: null, userId: user.id, role: 'viewer' },
      { name: 'read', role: 'viewer' },
    );
    const [ev] = await db
      .insert(events)
      .values({
        source: 'skylightchat',
        provider: 'skylight',
        deliveryId: 'auth-test-dead',
        eventType: 'message.received',
        fingerprint: 'fp-auth',
        payload: {},
        status: 'dead',
        deadAt: new Date(),
      })
      .returning({ id: events.id });
    const { POST } = await import('@/app/api/dlq/[id]/retry/route');
    const res = await POST(
      new Request(`http://app.test/api/dlq/${ev!.id}/retry`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.token}` },
      }),
      { params: Promise.resolve({ id: String(ev!.id) }) },
    );
    assert.equal(res.status, 403);
    assert.match((await res.json()).error.message, /needs the operator role; you are a viewer/);
    const [status] = await db.select({ s: events.status }).from(events).where(eq(events.id, ev!.id));
    assert.equal(status?.s, 'dead', 'nothing changed');
    const [audit] = await db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(1);
    assert.equal(audit?.action, 'request_refused');
    assert.equal(audit?.actor, 'viewer@test.example');
    assert.equal(audit?.tokenName, 'read');
    assert.equal(audit?.result, 'refused');
    assert.equal(audit?.code, 'forbidden');
    assert.equal(audit?.target, `POST /api/dlq/${ev!.id}/retry`);
  });

  test('retrying an event that is not dead is a 409, audited as a refusal like every conflict', async () => {
    const { user } = await createUser(admin, {
      email: 'conflict-op@test.example',
      role: 'operator',
      password: 'operator-password-12',
    });
    const t = await createToken(
      { actor: 'conflict-op@test.example', ip: null, userId: user.id, role: 'operator' },
      { name: 'ops', role: 'operator' },
    );
    const [ev] = await db
      .insert(events)
      .values({
        source: 'skylightchat',
        provider: 'skylight',
        deliveryId: 'auth-test-processed',
        eventType: 'message.received',
        fingerprint: 'fp-auth-processed',
        payload: {},
        status: 'processed',
      })
      .returning({ id: events.id });
    for (const action of ['retry', 'discard'] as const) {
      const { POST } =
        action === 'retry'
          ? await import('@/app/api/dlq/[id]/retry/route')
          : await import('@/app/api/dlq/[id]/discard/route');
      const res = await POST(
        new Request(`http://app.test/api/dlq/${ev!.id}/${action}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${t.token}` },
        }),
        { params: Promise.resolve({ id: String(ev!.id) }) },
      );
      assert.equal(res.status, 409, action);
      assert.match((await res.json()).error.message, /is processed, not dead/);
      const [audit] = await db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(1);
      assert.equal(audit?.action, 'request_refused', action);
      assert.equal(audit?.actor, 'conflict-op@test.example');
      assert.equal(audit?.code, 'conflict');
      assert.equal(audit?.target, `POST /api/dlq/${ev!.id}/${action}`);
    }
    const [status] = await db.select({ s: events.status }).from(events).where(eq(events.id, ev!.id));
    assert.equal(status?.s, 'processed', 'nothing changed');
  });

  test('audit filters by user, action and time', async () => {
    const { listAudit } = await import('@/db/queries/audit');
    await insertAudit(db, { actor: 'filter@test.example', ip: null }, 'dlq_discard', '1');
    const mine = await listAudit(db, { actor: 'filter@test.example', limit: 10 });
    assert.deepEqual(
      mine.rows.map((r) => r.action),
      ['dlq_discard'],
    );
    // Typed capitalised, the email still finds its rows; the environment token's actor as written.
    assert.equal((await listAudit(db, { actor: 'Filter@Test.Example', limit: 10 })).rows.length, 1);
    await insertAudit(db, { actor: 'DASHBOARD_API_TOKEN', ip: null }, 'dlq_discard', '2');
    assert.equal((await listAudit(db, { actor: 'DASHBOARD_API_TOKEN', limit: 10 })).rows.length, 1);
    const none = await listAudit(db, { actor: 'filter@test.example', action: 'dlq_retry', limit: 10 });
    assert.equal(none.rows.length, 0);
    const future = await listAudit(db, { from: new Date(Date.now() + 60_000), limit: 10 });
    assert.equal(future.rows.length, 0);

    // The export's cursor loop, a page of 2 at a time, yields exactly the list, newest first.
    const { iterateAudit } = await import('@/db/queries/audit');
    const all = (await listAudit(db, { limit: 10_000 })).rows.map((r) => r.id);
    const streamed: number[] = [];
    for await (const r of iterateAudit(db, {}, 2)) streamed.push(r.id);
    assert.ok(all.length > 5);
    assert.deepEqual(streamed, all);
  });
});

describe('origin check', () => {
  test('X-Forwarded-Host and -Proto do not count without TRUST_PROXY', async () => {
    const { isSameOrigin } = await import('@/lib/auth/require');
    const req = (origin: string, extra: Record<string, string> = {}) =>
      new Request('http://app.test/api/dlq/retry', {
        method: 'POST',
        headers: { host: 'app.test', origin, ...extra },
      });
    assert.equal(isSameOrigin(req('http://app.test')), true);
    assert.equal(isSameOrigin(req('https://app.test')), true, 'TLS ended in front of the app');
    assert.equal(
      isSameOrigin(
        req('https://evil.test', { 'x-forwarded-host': 'evil.test', 'x-forwarded-proto': 'https' }),
      ),
      false,
    );
    assert.equal(isSameOrigin(req('null')), false);
    assert.equal(isSameOrigin(req('http://app.test.evil.test')), false);
  });
});
