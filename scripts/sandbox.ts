// The SkyLight sandbox as its own process: management API + sender + downstream sink, in memory.
import { parseArgs } from 'node:util';
import { KNOWN_EVENTS } from '@/lib/providers/skylight/protocol';
import { DEFAULT_KNOBS, knobsSchema } from '@/lib/providers/skylight/sandbox/knobs';
import { startSandbox } from '@/lib/providers/skylight/sandbox/server';

const HELP = `Usage: npm run sandbox -- [options]

Runs a SkyLight Chat simulator: the Webhooks management API, a sender that streams signed deliveries
to --target, a Slack-compatible downstream sink, and a control API under /_sandbox/.

Target and identity
  --target URL        webhook URL to deliver to (creates one webhook subscribed to every event);
                      without it only the API runs until you create webhooks through it
  --port P            listen port on 127.0.0.1 (default: ephemeral)
  --api-key K         management API key (default: random sk_live_…)
  --secret S          signing secret of the --target webhook (default: random whsec_…)
  --events LIST       comma-separated events for the --target webhook (default: all)

Traffic
  --rate N            events per second (default 5; 0 = only on demand via POST /_sandbox/send)
  --burst N           events sent together, every burst/rate seconds (default 1)
  --duration S        stop after S seconds and print a summary (default: run until Ctrl-C)
  --drain S           after --duration, wait up to S seconds for pending retries (default 0)
  --duplicates P      share of deliveries sent twice, 0..1 (default 0)
  --failures P        share of events our handlers fail on, 0..1: half invalid data (permanent),
                      half a downstream that answers 500 N times (transient) (default 0)

Documented contradictions (provider-contract.md §6)
  --id-mode M         stable | per-attempt: delivery_id kept or renewed on retries/duplicates (C7)
  --shape S           A (nested data, ISO timestamp) | B (flat data, Unix seconds) (C1, C2)
  --list-shape S      A (GET /webhooks unpaginated) | B (paginated with meta) (C4)
  --attempts N        4 (3 retries) | 3 attempts in all (C5)

Time
  --time-scale F      divides the 2/10/30 minute retry schedule (default 60: 2 s/10 s/30 s)
  --skew-ms MS        offset added to the sandbox clock (event and X-Skylight-Timestamp times)
  --timeout-ms MS     delivery timeout (default 30000, as documented)

Control API (same key): GET/PATCH /_sandbox/knobs, GET /_sandbox/stats, POST /_sandbox/send
{count, event?}, GET /_sandbox/downstream, POST /_sandbox/downstream/outage {on}.
Downstream sink: POST /downstream/notify {text}.
`;

const { values } = parseArgs({
  options: {
    help: { type: 'boolean', short: 'h' },
    target: { type: 'string' },
    port: { type: 'string' },
    'api-key': { type: 'string' },
    secret: { type: 'string' },
    events: { type: 'string' },
    rate: { type: 'string', default: '5' },
    burst: { type: 'string' },
    duration: { type: 'string' },
    drain: { type: 'string', default: '0' },
    duplicates: { type: 'string' },
    failures: { type: 'string' },
    'id-mode': { type: 'string' },
    shape: { type: 'string' },
    'list-shape': { type: 'string' },
    attempts: { type: 'string' },
    'time-scale': { type: 'string', default: '60' },
    'skew-ms': { type: 'string' },
    'timeout-ms': { type: 'string' },
  },
  strict: true,
});

if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
function fail(message: string): never {
  process.stderr.write(`sandbox: ${message}\n(see npm run sandbox -- --help)\n`);
  process.exit(2);
}

const knobs = knobsSchema.safeParse({
  ...DEFAULT_KNOBS,
  rate: num(values.rate),
  burst: num(values.burst) ?? DEFAULT_KNOBS.burst,
  duplicates: num(values.duplicates) ?? DEFAULT_KNOBS.duplicates,
  failures: num(values.failures) ?? DEFAULT_KNOBS.failures,
  idMode: values['id-mode'] ?? DEFAULT_KNOBS.idMode,
  shape: values.shape ?? DEFAULT_KNOBS.shape,
  listShape: values['list-shape'] ?? DEFAULT_KNOBS.listShape,
  maxAttempts: num(values.attempts) ?? DEFAULT_KNOBS.maxAttempts,
  timeScale: num(values['time-scale']),
  skewMs: num(values['skew-ms']) ?? DEFAULT_KNOBS.skewMs,
});
if (!knobs.success) {
  const i = knobs.error.issues[0]!;
  fail(`invalid --${String(i.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${i.message}`);
}
const events = values.events?.split(',').map((e) => e.trim()) ?? [...KNOWN_EVENTS];
const unknown = events.filter((e) => !(KNOWN_EVENTS as readonly string[]).includes(e));
if (unknown.length) fail(`unknown event(s): ${unknown.join(', ')}`);
const port = num(values.port) ?? 0;
const duration = num(values.duration);
const drain = num(values.drain) ?? 0;
const timeoutMs = num(values['timeout-ms']);
for (const [name, v] of Object.entries({ port, duration, drain, timeoutMs })) {
  if (v !== undefined && (!Number.isFinite(v) || v < 0)) fail(`--${name} must be a non-negative number`);
}
if (values.target) {
  try {
    new URL(values.target);
  } catch {
    fail('--target must be a URL');
  }
}

const sandbox = await startSandbox({
  port,
  apiKey: values['api-key'],
  knobs: knobs.data,
  deliveryTimeoutMs: timeoutMs,
  log: {
    info: (obj, msg) => process.stderr.write(`${msg} ${JSON.stringify(obj)}\n`),
    warn: (obj, msg) => process.stderr.write(`warn: ${msg} ${JSON.stringify(obj)}\n`),
  },
});
const { core } = sandbox;
const webhook = values.target
  ? await core.createWebhook({ name: 'sandbox target', url: values.target, events, secret: values.secret })
  : null;

process.stdout.write(
  [
    `SkyLight sandbox`,
    `  API URL:     ${sandbox.apiUrl}`,
    `  API key:     ${sandbox.apiKey}`,
    `  control:     ${sandbox.controlUrl}/stats`,
    `  downstream:  ${sandbox.downstreamUrl}`,
    webhook ? `  webhook #${webhook.id} → ${webhook.url}` : '  no --target: create webhooks via the API',
    webhook ? `  secret:      ${webhook.secret}` : null,
    `  rate ${knobs.data.rate}/s, shape ${knobs.data.shape}, id mode ${knobs.data.idMode}, time scale ${knobs.data.timeScale}`,
    '',
  ]
    .filter((l) => l !== null)
    .join('\n'),
);
const started = performance.now();
core.sender.start();

let stopping = false;
async function finish(reason: string) {
  if (stopping) return;
  stopping = true;
  core.setKnobs({ rate: 0 });
  const drainUntil = performance.now() + drain * 1000;
  while (performance.now() < drainUntil) {
    const s = core.sender.stats();
    if (s.retriesPending + s.inFlight + s.queued === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const elapsedS = (performance.now() - started) / 1000;
  const retriesPending = core.sender.stats().retriesPending;
  await sandbox.stop();
  const s = await core.stats();
  const summary = {
    reason,
    elapsed_s: Number(elapsedS.toFixed(2)),
    events: s.sender.events,
    events_per_s: Number((s.sender.events / elapsedS).toFixed(1)),
    attempts: s.sender.sent,
    delivered: s.sender.delivered,
    failed_attempts: s.sender.failedAttempts,
    failed_final: s.sender.failed,
    duplicates: s.sender.duplicates,
    retries_pending: retriesPending,
    downstream: s.downstream,
  };
  process.stdout.write(`summary ${JSON.stringify(summary, null, 2)}\n`);
  process.exit(0);
}
process.once('SIGINT', () => void finish('SIGINT'));
process.once('SIGTERM', () => void finish('SIGTERM'));
if (duration !== undefined) setTimeout(() => void finish('duration'), duration * 1000);
