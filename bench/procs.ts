import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';

type Proc = { name: string; child: ChildProcess; output: string[] };
const procs: Proc[] = [];

/**
 * Starts a server in its own process group so that it and anything it forks can be stopped by id.
 * Keeps the last lines of its output for error messages.
 */
export function startProc(
  name: string,
  cmd: string,
  args: readonly string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv },
) {
  const child = spawn(cmd, [...args], {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p: Proc = { name, child, output: [] };
  const keep = (d: Buffer) => {
    p.output.push(d.toString());
    if (p.output.length > 50) p.output.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  procs.push(p);
  return p;
}

export function outputOf(p: Proc) {
  return p.output.join('').slice(-3000);
}

export async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Waits until something answers HTTP on the port (any status), or the process exits. */
export async function waitHttp(p: Proc, port: number, timeoutMs = 180_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (p.child.exitCode !== null) throw new Error(`${p.name} exited (${p.child.exitCode}):\n${outputOf(p)}`);
    const up = await new Promise<boolean>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/api/health', timeout: 2000 }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${p.name} did not answer on ${port} within ${timeoutMs} ms:\n${outputOf(p)}`);
}

function signalGroup(p: Proc, sig: NodeJS.Signals) {
  if (p.child.pid === undefined || p.child.exitCode !== null || p.child.signalCode !== null) return;
  try {
    process.kill(-p.child.pid, sig);
  } catch {
    // Already gone.
  }
}

/** Stops one started server: SIGTERM to its group, SIGKILL after a grace period. */
export async function stopProc(p: Proc, graceMs = 3000) {
  const i = procs.indexOf(p);
  if (i >= 0) procs.splice(i, 1);
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.child.once('exit', () => r()));
  signalGroup(p, 'SIGTERM');
  const timer = new Promise<'late'>((r) => setTimeout(() => r('late'), graceMs));
  if ((await Promise.race([exited, timer])) === 'late') {
    signalGroup(p, 'SIGKILL');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
  }
  // A forked grandchild may outlive the leader: make sure the group is gone.
  signalGroup(p, 'SIGKILL');
}

export async function stopAll() {
  await Promise.all([...procs].map((p) => stopProc(p)));
}

/** Last resort on a synchronous exit path: kill every started group at once. */
export function killAllSync() {
  for (const p of procs) {
    if (p.child.pid === undefined) continue;
    try {
      process.kill(-p.child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Resident memory of a started server's whole process group, in KiB (forked helpers included). */
export function groupRssKb(p: Proc): number | null {
  const pgid = p.child.pid;
  if (pgid === undefined) return null;
  let total = 0;
  let found = false;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the command name, which may contain spaces: state ppid pgrp ...
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== pgid) continue;
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${name}/status`, 'utf8'));
      if (m) {
        total += Number(m[1]);
        found = true;
      }
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return found ? total : null;
}

export type RssTrace = {
  label: string;
  /** [seconds since start, MB, phase]; the phase is whatever the harness was doing then. */
  samples: Array<[seconds: number, mb: number, phase: string]>;
};

/** Samples a server's RSS every `everyMs` until stopped, tagged with the harness's current phase. */
export function traceRss(p: Proc, label: string, everyMs = 1000) {
  const t0 = Date.now();
  const trace: RssTrace = { label, samples: [] };
  let phase = 'idle';
  const sample = () => {
    const kb = groupRssKb(p);
    if (kb !== null) trace.samples.push([Math.round((Date.now() - t0) / 1000), Math.round(kb / 1024), phase]);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  timer.unref();
  return {
    phase(name: string) {
      phase = name;
    },
    stop(): RssTrace {
      clearInterval(timer);
      sample();
      return trace;
    },
  };
}
