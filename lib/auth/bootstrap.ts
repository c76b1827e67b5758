import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '@/db/client';
import { deleteLegacySessions, getSetting } from '@/db/queries/settings';
import { countUsers, insertUser } from '@/db/queries/users';
import { generatePassword, hashPassword } from './password';

/** The first admin's email. `{password}` alone logs in as this user while it is the only one. */
export const BOOTSTRAP_EMAIL = 'admin@localhost';
export const PASSWORD_FILE = path.join(process.cwd(), '.data', 'dashboard-password');
/** Where the single-password dashboard (before users) kept its generated password's hash. */
export const LEGACY_PASSWORD_SETTING = 'dashboard_password_scrypt';

export type BootstrapResult = 'exists' | 'from_env' | 'from_legacy' | 'generated' | 'lost_race';

/**
 * With no users, creates the admin `admin@localhost` so the first login works as it always did:
 * its password is DASHBOARD_PASSWORD when set, else the hash an older single-password installation
 * stored (its login keeps working after the upgrade), else a generated one, written to
 * .data/dashboard-password (0600) and printed once. Replicas starting together race on the unique
 * email; only the winner writes and prints.
 */
export async function ensureBootstrapAdmin(
  db: Db,
  envPassword: string | undefined,
): Promise<BootstrapResult> {
  if ((await countUsers(db)) > 0) return 'exists';
  const legacy = await getSetting(db, LEGACY_PASSWORD_SETTING);
  const generated = envPassword || legacy ? null : generatePassword();
  const passwordHash = envPassword
    ? await hashPassword(envPassword)
    : (legacy ?? (await hashPassword(generated!)));
  const created = await db.transaction(async (tx) => {
    const user = await insertUser(tx, { email: BOOTSTRAP_EMAIL, role: 'admin', passwordHash });
    if (user) await deleteLegacySessions(tx);
    return user;
  });
  if (!created) return 'lost_race';
  if (generated) {
    await mkdir(path.dirname(PASSWORD_FILE), { recursive: true });
    await writeFile(PASSWORD_FILE, `${generated}\n`, { mode: 0o600 });
    // Printed on purpose (not logged): the one moment the operator can read the generated password.
    console.log(
      `\nGenerated password for ${BOOTSTRAP_EMAIL}: ${generated}\n(also saved to ${PASSWORD_FILE}; set DASHBOARD_PASSWORD before the first start to choose your own)\n`,
    );
  }
  return envPassword ? 'from_env' : legacy ? 'from_legacy' : 'generated';
}
