// A flood of bad signatures must not slow valid deliveries or grow memory (issue 16).
//
//   npx tsx bench/signature-flood.ts [--rate 100] [--seconds 15] [--flood 10000] [--pglite]
//
// The receiver (the app's stack: group commit, recorder, forensics queue) runs in a child process on
// a scratch Postgres database (BENCH_ADMIN_URL) or PGlite (--pglite), on 127.0.0.1:3210. The parent
// sends valid signed deliveries at a fixed rate (open model) twice: alone, then while 10,000 requests
// with wrong signatures arrive as fast as 32 connections allow. It prints valid-delivery p50/p99 of
// both runs and the child's heap and RSS before, at the peak of and after the flood.
import { spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PORT = 3210;
const SECRET = 'bench-flood-signing-secret-0001';
const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};

type Mem = { rss: number; heapUsed: number };

async function serve() {
  const { openDb } = await import('@/db/client');
  const { createReceiverStack, webhookSlug } = await import('@/lib/receiver/stack');
  const { fromIncoming, sendNode } = await import('@/lib/receiver/node-request');
  const { SourceDirectory } = await import('@/lib/sources/directory');
  const url = process.env.BENCH_DB_URL;
  const handle = await openDb(url ? { url, max: 10 } : { pgliteDir: 'memory://' });
  const getDb = async () => handle.db;
  const sources = new SourceDirectory({
    db: getDb,
    box: null,
    builtIn: new Map([
      [
        'skylightchat',
        { slug: 'skylightchat', provider: 'skylight', seedLabel: 'BENCH', seeds: async () => [SECRET] },
      ],
    ]),
  });
  const stack = createReceiverStack({
    db: getDb,
    sources,
    maxBodyBytes: 1_048_576,
    maxAgeMs: 72 * 3_600_000,
    maxInFlight: url ? 4 : 1,
  });
  const server = http.createServer((req, res) => {
    const startedAt = performance.now();
    if (req.url === '/__mem') {
      const m = process.memoryUsage();
      res.end(JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed } satisfies Mem));
      return;
    }
    if (req.url === '/__gc') {
      (globalThis as { gc?: () => void }).gc?.();
      res.end('{}');
      return;
    }
    const slug = webhookSlug(req.url ?? '') ?? '-';
    void stack
      .handle(slug, fromIncoming(req, startedAt))
      .then((r) => sendNode(res, r, r.bodyUnread === true));
  });
  server.listen(PORT, '127.0.0.1', () => process.stdout.write('ready\n'));
}

function delivery(valid: boolean) {
  const id = randomUUID();
  const body = JSON.stringify({
    event: 'contact.created',
    delivery_id: id,
    timestamp: new Date().toISOString(),
    data: {
      contact: {
        id: Math.floor(Math.random() * 1e9),
        name: 'Bench',
        phone: '+15550000000',
        type: 'whatsapp',
      },
    },
  });
  const secret = valid ? SECRET : `wrong-${id}`;
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-skylight-event': 'contact.created',
      'x-skylight-delivery': id,
      'x-skylight-signature': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    },
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function post(
  p: string,
  d: { body: string; headers: Record<string, string> } | null,
): Promise<{ status: number; ms: number; text: string }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port: PORT, path: p, method: d ? 'POST' : 'GET', headers: d?.headers, agent },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, text }));
      },
    );
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started, text: '' }));
    req.end(d?.body);
  });
}

const mem = async (): Promise<Mem> => JSON.parse((await post('/__mem', null)).text) as Mem;

/** Valid deliveries at `rate`/s for `seconds` (open model): latency of each. */
async function validRun(rate: number, seconds: number): Promise<{ lat: number[]; bad: number }> {
  const lat: number[] = [];
  let bad = 0;
  const total = rate * seconds;
  const t0 = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inflight.push(
      post('/api/webhooks/skylightchat', delivery(true)).then((r) => {
        if (r.status === 200) lat.push(r.ms);
        else bad++;
      }),
    );
  }
  await Promise.all(inflight);
  return { lat, bad };
}

async function flood(count: number, concurrency: number, peak: { mem: Mem | null }) {
  let next = 0;
  let refused = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const r = await post('/api/webhooks/skylightchat', delivery(false));
      if (r.status === 400) refused++;
      if (next % 1000 === 0) {
        const m = await mem();
        if (!peak.mem || m.heapUsed > peak.mem.heapUsed) peak.mem = m;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return refused;
}

const q = (lat: number[], p: number) => {
  const s = Float64Array.from(lat).sort();
  return Math.round(s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]! * 100) / 100;
};
const mb = (n: number) => Math.round((n / 1048576) * 10) / 10;

async function main() {
  const rate = opt('rate', 100);
  const seconds = opt('seconds', 15);
  const floodCount = opt('flood', 10_000);
  const pglite = args.includes('--pglite');
  let scratch: string | null = null;
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'error' };
  const { createScratch, dropScratch } = await import('./scratch-db');
  if (!pglite) {
    scratch = `bench_flood_${process.pid}`;
    env.BENCH_DB_URL = await createScratch(scratch);
  }
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', self, '--serve'], {
    env,
    cwd: path.resolve(path.dirname(self), '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => c.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`receiver exited ${code}`)));
    });
    await validRun(50, 3); // warm-up: JIT, prepared statements, pools
    await post('/__gc', null);
    const before = await mem();
    const base = await validRun(rate, seconds);
    const peak = { mem: null as Mem | null };
    const [withFlood, refused] = await Promise.all([validRun(rate, seconds), flood(floodCount, 32, peak)]);
    await new Promise((r) => setTimeout(r, 2_000));
    await post('/__gc', null);
    const afterMem = await mem();
    const result = {
      db: pglite ? 'pglite' : 'postgres',
      rate,
      seconds,
      flood: floodCount,
      flood_refused_400: refused,
      baseline: { n: base.lat.length, failed: base.bad, p50: q(base.lat, 0.5), p99: q(base.lat, 0.99) },
      during_flood: {
        n: withFlood.lat.length,
        failed: withFlood.bad,
        p50: q(withFlood.lat, 0.5),
        p99: q(withFlood.lat, 0.99),
      },
      memory_mb: {
        before: { heap: mb(before.heapUsed), rss: mb(before.rss) },
        peak: peak.mem && { heap: mb(peak.mem.heapUsed), rss: mb(peak.mem.rss) },
        after: { heap: mb(afterMem.heapUsed), rss: mb(afterMem.rss) },
      },
    };
    const ratio = result.during_flood.p99 / result.baseline.p99;
    console.log(JSON.stringify(result, null, 2));
    console.log(`valid p99 during the flood / without: ${ratio.toFixed(3)} (target ≤ 1.10)`);
    writeFileSync(
      path.join(path.dirname(self), 'results', 'signature-flood.json'),
      `${JSON.stringify({ ...result, p99_ratio: ratio }, null, 2)}\n`,
    );
  } finally {
    child.kill('SIGTERM');
    agent.destroy();
    if (scratch) await dropScratch(scratch);
  }
}

if (args.includes('--serve')) void serve();
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
