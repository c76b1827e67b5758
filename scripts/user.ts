// `npm run user -- add --email a@b.test --role operator`: creates a person from the command line.
// With a password on stdin (piped) it is used; otherwise a one-time password is printed.
import { parseArgs } from 'node:util';
import { ROLES } from '@/db/schema';
import { createUserBody } from '@/lib/api/schemas';
import { createUser } from '@/lib/auth/people';
import { closeDb } from '@/lib/db';
import { AppError } from '@/lib/errors';

const USAGE = `usage: npm run user -- add --email <email> --role ${ROLES.join('|')}   (password on stdin, or one is generated)`;

async function readStdin(): Promise<string | undefined> {
  if (process.stdin.isTTY) return undefined;
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  const line = text.split(/\r?\n/)[0] ?? '';
  return line === '' ? undefined : line;
}

function parseCli() {
  try {
    return parseArgs({
      options: { email: { type: 'string' }, role: { type: 'string' }, help: { type: 'boolean' } },
      allowPositionals: true,
    });
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return null;
  }
}

async function main(): Promise<number> {
  const parsed = parseCli();
  if (!parsed) return 2;
  const { values, positionals } = parsed;
  if (values.help || positionals[0] !== 'add' || positionals.length !== 1) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const body = createUserBody.safeParse({
    email: values.email,
    role: values.role,
    password: await readStdin(),
  });
  if (!body.success) {
    for (const i of body.error.issues) console.error(`${i.path.join('.') || 'input'}: ${i.message}`);
    console.error(USAGE);
    return 2;
  }
  try {
    const { user, password } = await createUser({ actor: 'cli', ip: null }, body.data);
    console.log(`created ${user.email} (${user.role}, id ${user.id})`);
    // Printed on purpose: the only time this password can be read; it is stored hashed.
    if (password) console.log(`one-time password: ${password}`);
    return 0;
  } catch (err) {
    if (err instanceof AppError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  } finally {
    await closeDb();
  }
}

process.exit(await main());
