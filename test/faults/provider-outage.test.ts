import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type AppProcess, ensureAppBuilt, startApp } from '../helpers/app-process';
import { signedDelivery } from '../helpers/deliveries';
import { API_TOKEN, appEnv, report, skipReason, takeTurn } from './harness';

// SkyLight's management API misbehaving (timeouts, 5xx, 429, garbage, resets, gone) behind the
// dashboard's /api/provider/* routes: clear error codes (CONTRACT.md), never a 500, the rest of the
// app keeps serving, and it works again as soon as the provider does.

const APP_PORT = 4540;
const PROVIDER_PORT = 4541;
const API_KEY = 'faults-fake-provider-key-0123456789';
const SECRET = 'whsec_faults-provider-outage-secret';

type Mode =
  | 'ok'
  | '500'
  | 'html-502'
  | '429-long'
  | '429-once'
  | 'garbage'
  | 'wrong-shape'
  | 'reset'
  | 'echo-key';

const WEBHOOK = {
  id: 7,
  name: 'prod',
  url: 'https://example.test/api/webhooks/skylightchat',
  events: ['contact.created'],
  is_active: true,
  created_at: '2026-01-01T00:00:00.000000Z',
  updated_at: '2026-01-01T00:00:00.000000Z',
  delivery_logs_count: 0,
};

/** A fake SkyLight: `/webhooks` answers per `mode`; anything under `/webhooks/7` never answers. */
class FakeProvider {
  mode: Mode = 'ok';
  hits = 0;
  private server: Server | null = null;
  private hung: ServerResponse[] = [];
  private onceServed = false;

  async listen() {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(PROVIDER_PORT, '127.0.0.1', () => resolve());
    });
  }

  async close() {
    for (const res of this.hung) res.destroy();
    this.hung = [];
    const s = this.server;
    this.server = null;
    if (s) {
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    }
  }

  /** Writes accepted and left without an answer. */
  hangingWrites = 0;

  setMode(mode: Mode) {
    this.mode = mode;
    this.hits = 0;
    this.onceServed = false;
  }

  private handle(req: IncomingMessage, res: ServerResponse) {
    const url = req.url ?? '';
    req.resume();
    if (url.startsWith('/api/v1/webhooks/7')) {
      // Accepts the request and never answers: the client's own timeout has to fire.
      this.hung.push(res);
      if (req.method !== 'GET') this.hangingWrites++;
      return;
    }
    this.hits++;
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    switch (this.mode) {
      case 'ok':
        return json(200, { success: true, data: [WEBHOOK] });
      case '500':
        return json(500, { success: false, message: 'Server Error' });
      case 'html-502':
        res.writeHead(502, { 'content-type': 'text/html' });
        return res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
      case '429-long':
        // Longer than the client waits (5 s), so the caller gets it; short enough to wait out here.
        return json(429, { success: false, message: 'Too Many Attempts.', retry_after: 7 });
      case '429-once':
        if (this.onceServed) return json(200, { success: true, data: [WEBHOOK] });
        this.onceServed = true;
        return json(429, { success: false, message: 'Too Many Attempts.', retry_after: 1 });
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('<!doctype html>\u0000\u00ff not json at all');
      case 'wrong-shape':
        return json(200, { success: true, data: [{ id: 'seven', is_active: 'yes' }] });
      case 'reset':
        return req.socket.destroy();
      case 'echo-key':
        return json(500, { success: false, message: `Invalid key ${API_KEY} for this account` });
    }
  }
}

type Answer = { status: number; code: string | null; message: string; retryAfter: string | null; ms: number };

async function call(app: AppProcess, pathname: string, init: RequestInit = {}): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(`${app.url}${pathname}`, {
    ...init,
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json', ...init.headers },
    signal: AbortSignal.timeout(60_000),
  });
  const body = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
  return {
    status: res.status,
    code: body?.error?.code ?? null,
    message: body?.error?.message ?? '',
    retryAfter: res.headers.get('retry-after'),
    ms: performance.now() - started,
  };
}

const skip = await skipReason();

describe('provider outage behind /api/provider/*', { skip }, () => {
  const provider = new FakeProvider();
  let app: AppProcess | null = null;
  let pgliteDir = '';
  let release = () => {};

  before(
    async () => {
      release = await takeTurn('provider-outage');
      await ensureAppBuilt();
      await provider.listen();
      // Embedded PGlite: this test is about the provider, not the database.
      pgliteDir = mkdtempSync(path.join(tmpdir(), 'faults-provider-'));
      app = await startApp({
        port: APP_PORT,
        env: appEnv({
          apiUrl: `http://127.0.0.1:${PROVIDER_PORT}/api/v1`,
          apiKey: API_KEY,
          secret: SECRET,
          // The alert watchdog polls the provider too; once an hour here (after its first round, at
          // start), so the provider's request counts below are the dashboard call's own.
          extra: { PGLITE_DIR: path.join(pgliteDir, 'db'), ALERT_EVAL_INTERVAL_MS: '3600000' },
        }),
      });
    },
    { timeout: 45 * 60_000 },
  );

  after(async () => {
    await app?.kill();
    await provider.close();
    if (pgliteDir) rmSync(pgliteDir, { recursive: true, force: true });
    release();
  });

  test('every failure maps to a clear error, never a 500; the app keeps serving and recovers', {
    timeout: 3 * 60_000,
  }, async () => {
    const seen: Answer[] = [];
    const record = (a: Answer) => {
      seen.push(a);
      return a;
    };
    const pid = app!.pid;
    // Background jobs (alert watchdog, reconciliation) make their first provider calls a second after
    // start and then not for minutes: let those pass before counting requests.
    await new Promise((r) => setTimeout(r, 3000));

    // Calls that hang at the provider: GET (retried twice, 10 s each) and a PATCH's PUT (never retried).
    const hangingGet = call(app!, '/api/provider/webhooks/7/deliveries').then(record);
    const hangingPatch = call(app!, '/api/provider/webhooks/7', {
      method: 'PATCH',
      body: JSON.stringify({ is_active: false }),
    }).then(record);
    // The toggle lists the webhooks first (it sends the webhook whole): that call is served before
    // the cases below count the provider's requests.
    while (provider.hangingWrites < 1) await new Promise((r) => setTimeout(r, 20));

    const cases: Array<{ mode: Mode; status: number; code: string | null; message?: RegExp; hits?: number }> =
      [
        { mode: 'ok', status: 200, code: null, hits: 1 },
        { mode: '500', status: 502, code: 'provider_error', message: /answered 500/, hits: 3 },
        { mode: 'html-502', status: 502, code: 'provider_error', message: /answered 502/, hits: 3 },
        { mode: '429-long', status: 429, code: 'rate_limited', message: /retry in 7 s/, hits: 1 },
        { mode: '429-once', status: 200, code: null, hits: 2 },
        { mode: 'garbage', status: 502, code: 'provider_error', message: /malformed JSON/, hits: 1 },
        { mode: 'wrong-shape', status: 502, code: 'provider_error', message: /unexpected response.*data\.0/ },
        {
          mode: 'reset',
          status: 504,
          code: 'provider_unreachable',
          message: /Cannot reach SkyLight/,
          hits: 3,
        },
        { mode: 'echo-key', status: 502, code: 'provider_error', message: /\[redacted\]/ },
      ];
    const results: Record<string, unknown> = {};
    for (const c of cases) {
      provider.setMode(c.mode);
      const a = record(await call(app!, '/api/provider/webhooks'));
      results[c.mode] = { status: a.status, code: a.code, hits: provider.hits, ms: Math.round(a.ms) };
      assert.equal(a.status, c.status, `${c.mode}: status (${a.message})`);
      assert.equal(a.code, c.code, `${c.mode}: error code`);
      if (c.message) assert.match(a.message, c.message, `${c.mode}: message`);
      if (c.hits !== undefined) assert.equal(provider.hits, c.hits, `${c.mode}: provider requests`);
      assert.ok(!a.message.includes(API_KEY), `${c.mode}: the API key never appears in an error`);
      if (c.mode === '429-long') {
        const refusedAt = performance.now();
        assert.equal(a.retryAfter, '7', 'Retry-After passed on');
        // Asked again within the wait: held back by the key's budget, the provider not asked at all.
        const again = record(await call(app!, '/api/provider/webhooks'));
        assert.equal(again.status, 429, `${again.message} ${app!.logs()}`);
        assert.match(again.message, /held back: the rate limit of this API key is spent; retry in \d s/);
        assert.equal(provider.hits, 1, 'no second 429 spent at the provider');
        await new Promise((r) => setTimeout(r, refusedAt + 7_500 - performance.now()));
      }

      // Meanwhile the rest of the app answers at once: health, the JSON API, the receiver.
      const health = await fetch(`${app!.url}/api/health`, { signal: AbortSignal.timeout(3000) });
      assert.equal(health.status, 200, 'health is independent of the provider');
      await health.body?.cancel();
      const events = record(await call(app!, '/api/events?limit=5'));
      assert.equal(events.status, 200, 'dashboard API serves while the provider misbehaves');
      const d = signedDelivery(SECRET);
      const res = await fetch(app!.receiverUrl, {
        method: 'POST',
        headers: d.headers,
        body: d.body,
        signal: AbortSignal.timeout(3000),
      });
      assert.equal(res.status, 200, 'the receiver does not depend on the provider');
      await res.body?.cancel();
    }

    const get = await hangingGet;
    const patch = await hangingPatch;
    results.timeout_get = { status: get.status, code: get.code, ms: Math.round(get.ms) };
    results.timeout_patch = { status: patch.status, code: patch.code, ms: Math.round(patch.ms) };
    assert.equal(get.status, 504, `hanging GET: ${get.message}`);
    assert.equal(get.code, 'provider_unreachable');
    assert.match(get.message, /did not answer .* within 10000 ms/);
    assert.ok(get.ms < 40_000, 'the hanging GET is bounded (3 tries of 10 s)');
    assert.equal(patch.status, 504, `hanging PATCH: ${patch.message}`);
    assert.ok(patch.ms < 15_000, 'a write is tried once: it may have taken effect');

    // Gone altogether (connection refused), then back.
    await provider.close();
    const down = record(await call(app!, '/api/provider/webhooks'));
    results.down = { status: down.status, code: down.code, ms: Math.round(down.ms) };
    assert.equal(down.status, 504);
    assert.equal(down.code, 'provider_unreachable');
    assert.match(down.message, /Cannot reach SkyLight at 127\.0\.0\.1:4541.*ECONNREFUSED/);
    await provider.listen();
    provider.setMode('ok');
    const back = record(await call(app!, '/api/provider/webhooks'));
    results.recovered = { status: back.status, ms: Math.round(back.ms) };
    assert.equal(back.status, 200, 'works again as soon as the provider does');

    report('provider-outage', {
      calls: seen.length,
      status_500: seen.filter((a) => a.status === 500).length,
      ...results,
    });
    assert.equal(
      seen.filter((a) => a.status >= 500 && a.status !== 502 && a.status !== 504).length,
      0,
      'no 500 (or other 5xx than 502/504) for any provider failure',
    );
    assert.equal(app!.exited(), false);
    assert.equal(app!.pid, pid, 'no restart needed');
  });
});
