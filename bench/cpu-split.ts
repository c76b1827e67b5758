// Where a closed loop's CPU goes (issue #19): P0, P1 and ours (`npm start`, Postgres, worker off)
// under the same autocannon closed loop, A B C A B C, with the CPU each side used per ack: the server's
// process group, every Postgres process (backends, WAL writer, checkpointer), and this load generator.
// On a 2-core machine the three share the cores, so CPU per ack, not only acks/s, says which side a
// lever must make cheaper.
//   npx tsx bench/cpu-split.ts [--seconds 10] [--reps 2] [--connections 20] [--env KEY=VALUE …]
// --env adds a fourth side: ours again with those variables (an A/B of a setting in the same run).
import path from 'node:path';
import { parseArgs } from 'node:util';
import { npmStartArgs } from '../test/helpers/npm-start';
import { appEnv, envPairs } from './app-env';
import { autocannonClosed } from './closed';
import { cpuSince } from './cpu';
import { prepareNextCopy } from './next-copy';
import { Feed } from './payloads';
import { startProc, stopAll, waitHttp } from './procs';
import { createScratch, dropAllScratch } from './scratch-db';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    reps: { type: 'string', default: '2' },
    connections: { type: 'string', default: '20' },
    env: { type: 'string', multiple: true, default: [] },
  },
});
const extraEnv = envPairs(values.env);
const REPO = path.resolve(import.meta.dirname, '..');
const RUN = Math.random().toString(36).slice(2, 8);
const SECRET = `bench-secret-${RUN}`;
const BASE = Number(process.env.BENCH_PORT_BASE ?? 4300);
const HOOK = '/api/webhooks/skylightchat';
const env = (db: string, extra: Record<string, string>): NodeJS.ProcessEnv => ({
  ...appEnv(SECRET, db),
  BENCH_DATABASE_URL: db,
  ...extra,
});

try {
  const nextDir = await prepareNextCopy(REPO, console.log);
  const peer = (file: string) =>
    [process.execPath, ['--import', 'tsx', path.join(REPO, 'bench/peers', file)]] as const;
  const targets: Array<{
    id: string;
    port: number;
    start: readonly [string, readonly string[]];
    cwd: string;
    env?: Record<string, string>;
  }> = [
    { id: 'P1 express + pg', port: BASE + 2, start: peer('p1.ts'), cwd: REPO },
    { id: 'P0 node:http + postgres.js', port: BASE + 1, start: peer('p0.ts'), cwd: REPO },
    {
      id: 'ours npm start (pg)',
      port: BASE + 3,
      start: [process.execPath, npmStartArgs(nextDir)] as const,
      cwd: nextDir,
    },
  ];
  if (values.env.length > 0) {
    targets.push({ ...targets[2]!, id: `ours + ${values.env.join(' ')}`, port: BASE + 4, env: extraEnv });
  }
  const procs = [];
  for (const [i, t] of targets.entries()) {
    const db = await createScratch(`bench_${RUN}_cpu_${i}`);
    const p = startProc(t.id, t.start[0], t.start[1], {
      cwd: t.cwd,
      env: env(db, { BENCH_PORT: String(t.port), PORT: String(t.port), ...t.env }),
    });
    procs.push(p);
    await waitHttp(p, t.port);
  }
  const rows: string[][] = [];
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  for (let rep = 1; rep <= Number(values.reps); rep++) {
    for (const [i, t] of targets.entries()) {
      const feed = new Feed(SECRET, 'accept', (rep * 10 + i) * 1e8);
      const url = `http://127.0.0.1:${t.port}${HOOK}`;
      await autocannonClosed(url, connections, 1000, feed); // warm
      const took = cpuSince(procs[i]!.child.pid!);
      const gen0 = process.cpuUsage();
      const r = await autocannonClosed(url, connections, seconds * 1000, feed);
      const { appMs: app, pgMs: pg } = took();
      const g = process.cpuUsage(gen0);
      const gen = (g.user + g.system) / 1000;
      const per = (ms: number) => (r.ok > 0 ? ((ms / r.ok) * 1000).toFixed(0) : '–');
      rows.push([
        String(rep),
        t.id,
        String(r.acksPerSecond),
        String(r.errors),
        per(app),
        per(pg),
        per(gen),
        `${(((app + pg + gen) / (seconds * 1000)) * 100).toFixed(0)} %`,
      ]);
      console.log(rows.at(-1)!.join(' | '));
    }
  }
  const head = [
    'rep',
    'peer',
    'acks/s',
    'errors',
    'app µs/ack',
    'postgres µs/ack',
    'load gen µs/ack',
    'CPU used (of 1 core)',
  ];
  console.log(`\nclosed loop, ${connections} connections, ${seconds} s per run\n`);
  console.log(`| ${head.join(' | ')} |\n| ${head.map(() => '---').join(' | ')} |`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
} finally {
  await stopAll();
  await dropAllScratch();
}
