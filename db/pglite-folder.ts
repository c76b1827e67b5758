import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

/**
 * PGlite (0.5) takes no lock on its folder: a second process opening it writes over the first one's
 * files and the database ends up unreadable (electric-sql/pglite#1106). So the app takes one itself:
 * `<folder>.lock`, beside the folder, holding the owner's pid and the start time the kernel gives it.
 */
export class PgliteFolderInUseError extends Error {
  override name = 'PgliteFolderInUseError';
  constructor(
    readonly folder: string,
    readonly pid: number,
  ) {
    super(
      `The PGlite folder ${folder} is in use by process ${pid}${pid === process.pid ? ' (this process)' : ''}. ` +
        'PGlite is one process’s database: stop that process first, point PGLITE_DIR at another folder, ' +
        'or set DATABASE_URL to share a Postgres between processes.',
    );
  }
}

type Owner = { pid: number; started: string | null };

/** The process's start time in clock ticks since boot (Linux), so a reused pid is not taken for the owner. */
function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function alive(owner: Owner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to someone else, and still holds the folder.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTimeOf(owner.pid);
  return owner.started === null || now === null || now === owner.started;
}

function readOwner(file: string): Owner | null {
  try {
    const [pid, started] = readFileSync(file, 'utf8').trim().split(/\s+/);
    const n = Number(pid);
    return Number.isSafeInteger(n) && n > 0 ? { pid: n, started: started || null } : null;
  } catch {
    return null;
  }
}

/**
 * Takes the folder's lock or throws PgliteFolderInUseError naming the owner. A lock whose process is
 * gone (killed, crashed, the machine rebooted) is stale and taken over. Returns the release function;
 * the lock is also released when the process exits.
 */
export function lockPgliteFolder(folder: string): () => void {
  const file = `${folder}.lock`;
  const me = `${process.pid} ${startTimeOf(process.pid) ?? ''}\n`;
  for (let tries = 0; ; tries++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, me);
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || tries > 0) throw err;
      const owner = readOwner(file);
      if (owner && alive(owner)) throw new PgliteFolderInUseError(folder, owner.pid);
      unlinkSync(file);
    }
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    if (readOwner(file)?.pid === process.pid) unlinkSync(file);
  };
  process.on('exit', release);
  return release;
}

/**
 * Creates the folder (and missing parents) readable by this user only, and takes group and other
 * permissions off what is already in it: it holds the dashboard's password hash and the webhook
 * secrets. PGlite creates its files 0666 whatever the umask; inside a 0700 folder no one else can
 * reach them, and the next start tightens them too.
 */
export function makeFolderPrivate(folder: string) {
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      if ((st.mode & 0o777) !== 0o700) chmodSync(p, 0o700);
      for (const e of readdirSync(p)) walk(path.join(p, e));
    } else if (st.mode & 0o077) {
      chmodSync(p, st.mode & 0o700);
    }
  };
  walk(folder);
}
