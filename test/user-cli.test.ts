import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { asc } from 'drizzle-orm';
import { openDb } from '@/db/client';
import { users } from '@/db/schema';
import { verifyHash } from '@/lib/auth/password';

const dir = mkdtempSync(path.join(tmpdir(), 'user-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], input?: string) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PGLITE_DIR: path.join(dir, 'pglite'),
    LOG_LEVEL: 'silent',
  };
  delete env.DATABASE_URL;
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/user.ts', ...args], {
    env,
    input: input ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  });
}

test('npm run user -- add: a one-time password, or one from stdin; bad input changes nothing', async () => {
  const generated = run(['add', '--email', 'Ops@Example.test', '--role', 'operator']);
  assert.equal(generated.status, 0, generated.stderr);
  const otp = /one-time password: (\S+)/.exec(generated.stdout)?.[1];
  assert.ok(otp, generated.stdout);

  const piped = run(['add', '--email', 'viewer@example.test', '--role', 'viewer'], 'piped-password-123\n');
  assert.equal(piped.status, 0, piped.stderr);
  assert.doesNotMatch(piped.stdout, /one-time password/);

  const dup = run(['add', '--email', 'ops@example.test', '--role', 'admin']);
  assert.equal(dup.status, 1);
  assert.match(dup.stderr, /exists/);
  const bad = run(['add', '--email', 'nope', '--role', 'root']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /email: must be an email address/);
  assert.match(bad.stderr, /role:/);

  const h = await openDb({ pgliteDir: path.join(dir, 'pglite') });
  try {
    const rows = await h.db.select().from(users).orderBy(asc(users.id));
    assert.deepEqual(
      rows.map((r) => [r.email, r.role]),
      [
        ['ops@example.test', 'operator'],
        ['viewer@example.test', 'viewer'],
      ],
    );
    assert.equal(await verifyHash(otp, rows[0]!.passwordHash), true);
    assert.equal(await verifyHash('piped-password-123', rows[1]!.passwordHash), true);
  } finally {
    await h.close();
  }
});
