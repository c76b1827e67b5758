import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { getSetting, insertSettingIfAbsent } from '@/db/queries/settings';
import { getDb } from '@/lib/db';
import { env } from '@/lib/env';

const SETTING = 'dashboard_password_scrypt';
export const PASSWORD_FILE = path.join(process.cwd(), '.data', 'dashboard-password');
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 } as const;

function scryptAsync(password: string, salt: Buffer, N: number, r: number, p: number, keylen: number) {
  return new Promise<Buffer>((resolve, reject) =>
    scrypt(password, salt, keylen, { N, r, p, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** `scrypt$N$r$p$salt$hash` (base64url), so parameters can change without breaking old hashes. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { N, r, p, keylen } = SCRYPT;
  const key = await scryptAsync(password, salt, N, r, p, keylen);
  return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyHash(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scryptAsync(password, Buffer.from(salt, 'base64url'), +n!, +r!, +p!, expected.length);
  return timingSafeEqual(key, expected);
}

/** Constant-time equality of two strings of any length (compares fixed-size digests). */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

/** Checks a login attempt against DASHBOARD_PASSWORD, or the generated password's stored hash. */
export async function checkPassword(password: string): Promise<boolean> {
  if (env.DASHBOARD_PASSWORD) return safeEqual(password, env.DASHBOARD_PASSWORD);
  const stored = await getSetting(await getDb(), SETTING);
  return stored !== null && (await verifyHash(password, stored));
}

/**
 * Without DASHBOARD_PASSWORD, generates a password on first start: its scrypt hash goes to
 * `settings`, the plaintext to .data/dashboard-password (0600) and, once, to stdout. Replicas
 * starting together race on the insert; only the winner writes and prints.
 */
export async function ensureDashboardPassword(): Promise<void> {
  if (env.DASHBOARD_PASSWORD) return;
  const db = await getDb();
  if ((await getSetting(db, SETTING)) !== null) return;
  const password = randomBytes(18).toString('base64url');
  if (!(await insertSettingIfAbsent(db, SETTING, await hashPassword(password)))) return;
  await mkdir(path.dirname(PASSWORD_FILE), { recursive: true });
  await writeFile(PASSWORD_FILE, `${password}\n`, { mode: 0o600 });
  const url = `http://localhost:${env.PORT}/`;
  // Printed on purpose (not logged): the one moment the operator can read the generated password.
  console.log(
    `\nDashboard: ${url}\nGenerated dashboard password: ${password}\n(also saved to ${PASSWORD_FILE}; set DASHBOARD_PASSWORD to choose your own)\n`,
  );
}
