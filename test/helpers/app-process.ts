import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuild } from '../../scripts/ensure-build';
import { npmStartArgs } from './npm-start';

// The real app (`npm start`'s entry) as a child process, for the fault tests: spawned in its own process
// group so a SIGKILL takes down every process it started, and tracked so nothing outlives the test.

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The folder whose build is served: FAULTS_APP_DIR, else this repository. */
export function appDir(): string {
  return path.resolve(process.env.FAULTS_APP_DIR || REPO_ROOT);
}

const LOCK = path.join(tmpdir(), 'skylight-faults-build.lock');

/**
 * ensureBuild() under a cross-process lock: the test runner runs two fault files at once, and two
 * `next build`s in one folder would corrupt each other.
 */
export async function ensureAppBuilt(timeoutMs = 600_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // A lock left by a killed run is stale after 15 minutes (a build takes ~2).
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 15 * 60_000) rmSync(LOCK, { recursive: true, force: true });
      } catch {}
      if (Date.now() > end) throw new Error(`timed out waiting for the build lock ${LOCK}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    await ensureBuild(appDir());
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

export type AppProcess = {
  port: number;
  /** http://127.0.0.1:<port> */
  url: string;
  receiverUrl: string;
  pid: number;
  child: ChildProcess;
  /** The last lines the app printed (stdout and stderr), for failure messages. */
  logs(): string;
  exited(): boolean;
  /** SIGKILL to the whole process group: a crash, nothing drained. */
  kill(): Promise<void>;
  /** SIGTERM (the app drains), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** VmRSS in KiB of the biggest process in the group (the Next server). */
  rssKb(): number | null;
};

const live = new Set<AppProcess>();
/** Also on SIGTERM/SIGINT (a test runner's timeout): a killed test must not leave servers behind. */
function killAll() {
  for (const app of live) killGroup(app.pid);
}
process.once('exit', killAll);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(128 + (signal === 'SIGTERM' ? 15 : 2));
  });
}

function killGroup(pid: number, signal: NodeJS.Signals = 'SIGKILL') {
  try {
    process.kill(-pid, signal);
  } catch {}
}

export type StartOptions = {
  port: number;
  env: Record<string, string | undefined>;
  readyTimeoutMs?: number;
  /** Wait for /api/health to answer 200 (default); false: any HTTP answer will do. */
  waitHealthy?: boolean;
};

/** Starts the app (`scripts/start.ts`, what `npm start` runs) on a port and waits until it answers. */
export async function startApp(opts: StartOptions): Promise<AppProcess> {
  const dir = appDir();
  const env = {} as NodeJS.ProcessEnv;
  for (const [k, v] of Object.entries({
    ...process.env,
    // Not inherited from the test runner: the app gets exactly what the test configures.
    DATABASE_URL: undefined,
    TEST_DATABASE_URL: undefined,
    SKYLIGHT_API_KEY: undefined,
    SKYLIGHT_WEBHOOK_SECRET: undefined,
    NODE_OPTIONS: undefined,
    NODE_ENV: 'production',
    PORT: String(opts.port),
    LOG_LEVEL: 'warn',
    NEXT_TELEMETRY_DISABLED: '1',
    ...opts.env,
  })) {
    if (v !== undefined) env[k] = v;
  }
  // The production entry, as `npm start` runs it: receive() behind node:http, the rest through Next.
  const child = spawn(process.execPath, npmStartArgs(dir), {
    cwd: dir,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(line);
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const pid = child.pid!;
  const url = `http://127.0.0.1:${opts.port}`;
  const app: AppProcess = {
    port: opts.port,
    url,
    receiverUrl: `${url}/api/webhooks/skylightchat`,
    pid,
    child,
    logs: () => lines.join('\n'),
    exited: () => exited,
    kill: async () => {
      killGroup(pid);
      await Promise.race([exit, new Promise((r) => setTimeout(r, 5000))]);
      live.delete(app);
    },
    stop: async (graceMs = 10_000) => {
      killGroup(pid, 'SIGTERM');
      const done = await Promise.race([exit.then(() => true), delay(graceMs).then(() => false)]);
      // Whatever the server started (and the server itself, if it hung) goes now.
      killGroup(pid);
      if (!done) await Promise.race([exit, delay(5000)]);
      live.delete(app);
    },
    rssKb: () => groupRssKb(pid),
  };
  live.add(app);

  const end = performance.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) throw new Error(`app on port ${opts.port} exited during start-up:\n${app.logs()}`);
    try {
      const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(3000) });
      await res.body?.cancel();
      if (res.status === 200 || opts.waitHealthy === false) return app;
    } catch {}
    if (performance.now() > end) {
      await app.kill();
      throw new Error(`app on port ${opts.port} not healthy in time:\n${app.logs()}`);
    }
    await delay(100);
  }
}

export function delay(ms: number) {
  return new Promise<void>((r) => setTimeout(r, ms));
}

function groupRssKb(pgid: number): number | null {
  let best: number | null = null;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the command name, which may contain spaces: state ppid pgrp ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${name}/status`, 'utf8'));
      if (m && (best === null || Number(m[1]) > best)) best = Number(m[1]);
    } catch {}
  }
  return best;
}

/** Polls `check` every `everyMs` until it is truthy; fails after `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs: number,
  everyMs = 200,
): Promise<NonNullable<T>> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(everyMs);
  }
}
