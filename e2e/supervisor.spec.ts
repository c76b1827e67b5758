import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { PASSWORD, PORT } from './env';

// What a supervisor (systemd, Docker, pm2) does with the README's start command: it holds the pid of
// `npm start`, sends SIGTERM or SIGINT to exactly that pid, and starts it again on the same folder.
// A process test: no browser. It runs beside the suite's own server, on two ports of its own.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PORT_A = PORT + 4;
const PORT_B = PORT + 5;

type Started = { child: ChildProcess; output: () => string; exit: Promise<number | null> };

function npmStart(port: number, pgliteDir: string): Started {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!['DATABASE_URL', 'SKYLIGHT_API_KEY', 'SKYLIGHT_WEBHOOK_SECRET', 'NODE_OPTIONS'].includes(k))
      env[k] = v;
  }
  Object.assign(env, {
    NODE_ENV: 'production',
    PORT: String(port),
    PGLITE_DIR: pgliteDir,
    DASHBOARD_PASSWORD: PASSWORD,
    SANDBOX_RATE: '1',
    LOG_LEVEL: 'warn',
  });
  const child = spawn('npm', ['start'], {
    cwd: root,
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exit };
}

/** Every process below `pid`, read from /proc. */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      parentOf.set(Number(e), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {}
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parentOf) {
      if (parent === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

function alive(pid: number) {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

const portAnswers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

async function healthy(port: number, s: Started) {
  await expect
    .poll(
      async () => {
        try {
          return (await fetch(`http://127.0.0.1:${port}/api/health`)).status;
        } catch {
          return 0;
        }
      },
      { timeout: 120_000, message: `npm start on ${port} never answered: ${s.output().slice(-3000)}` },
    )
    .toBe(200);
}

/** Signals exactly npm's pid and checks that everything it started is gone and the port is free. */
async function stopBySignal(s: Started, signal: 'SIGTERM' | 'SIGINT', port: number) {
  const tree = descendants(s.child.pid!);
  expect(tree.length).toBeGreaterThan(0);
  s.child.kill(signal);
  expect(await s.exit, s.output()).toBe(0);
  await expect.poll(() => tree.filter(alive), { timeout: 15_000 }).toEqual([]);
  expect(await portAnswers(port)).toBe(false);
  expect(s.output()).toContain(`${signal}: shutting down`);
}

test('npm start stops on SIGTERM or SIGINT to its own pid, and a second process on its folder is refused', async () => {
  test.setTimeout(300_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'e2e-supervisor-'));
  const pgliteDir = path.join(dir, 'pglite');
  const started: Started[] = [];
  try {
    const a = npmStart(PORT_A, pgliteDir);
    started.push(a);
    await healthy(PORT_A, a);
    const server = descendants(a.child.pid!)[0]!;
    expect(readFileSync(`${pgliteDir}.lock`, 'utf8')).toMatch(new RegExp(`^${server} `));

    // A restart that overlaps the old process: refused, with the owner named; the first keeps serving.
    const b = npmStart(PORT_B, pgliteDir);
    started.push(b);
    expect(await b.exit).not.toBe(0);
    expect(b.output()).toContain(`The PGlite folder ${pgliteDir} is in use by process ${server}`);
    expect((await fetch(`http://127.0.0.1:${PORT_A}/api/health`)).status).toBe(200);

    await stopBySignal(a, 'SIGTERM', PORT_A);
    expect(existsSync(`${pgliteDir}.lock`)).toBe(false);

    // The supervisor starts it again on the same folder; Ctrl-C (SIGINT to npm) stops it too.
    const c = npmStart(PORT_A, pgliteDir);
    started.push(c);
    await healthy(PORT_A, c);
    await stopBySignal(c, 'SIGINT', PORT_A);
  } finally {
    for (const s of started) {
      if (s.child.exitCode !== null || s.child.signalCode !== null) continue;
      for (const pid of descendants(s.child.pid!)) process.kill(pid, 'SIGKILL');
      s.child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
