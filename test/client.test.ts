import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { AppError } from '@/lib/errors';
import { metrics } from '@/lib/observability/metrics';
import { SkylightClient } from '@/lib/providers/skylight/client';
import { KNOWN_EVENTS } from '@/lib/providers/skylight/protocol';
import { type Sandbox, startSandbox } from '@/lib/providers/skylight/sandbox/server';
import { verifySignature } from '@/lib/providers/skylight/signature';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A bare HTTP server on an ephemeral port that counts its requests. */
async function serve(handler: Handler) {
  const hits: { method: string; url: string; body: Buffer; headers: IncomingMessage['headers'] }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      hits.push({ method: req.method!, url: req.url!, body: Buffer.concat(chunks), headers: req.headers });
      handler(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    hits,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function rejects(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AppError, `expected AppError, got ${err}`);
    return err;
  }
  assert.fail('expected the call to fail');
}

/** skylight_management_api_requests_total as "<use> <result>" → count. */
async function managementCounts() {
  const { values } = await metrics.managementRequests.get();
  return new Map(values.map((v) => [`${v.labels.use} ${v.labels.result}`, v.value]));
}

/** Requests on the sandbox's key made outside this process's clients, as another replica would. */
async function spendElsewhere(sandbox: Sandbox, n: number) {
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${sandbox.apiUrl}/webhooks/events`, {
      headers: { 'x-api-key': sandbox.apiKey },
    });
    await res.body?.cancel();
  }
}

const ISO_MICRO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

describe('client against the sandbox API', () => {
  let sandbox: Sandbox;
  let target: Awaited<ReturnType<typeof serve>>;
  let client: SkylightClient;

  before(async () => {
    sandbox = await startSandbox({ rateLimit: { limit: 1000, windowMs: 60_000 } });
    target = await serve((_req, res) => res.writeHead(204).end());
    client = new SkylightClient({ baseUrl: sandbox.apiUrl, apiKey: sandbox.apiKey });
  });
  after(async () => {
    await sandbox.stop();
    await target.close();
  });

  test('every endpoint, end to end', async () => {
    const created = await client.createWebhook({
      name: 'Orders sync',
      url: `${target.url}/hook`,
      events: ['contact.created', 'message.received'],
    });
    assert.match(created.secret, /^whsec_[A-Za-z0-9]{64}$/);
    assert.equal(created.is_active, true);
    assert.match(created.created_at!, ISO_MICRO);

    const got = await client.getWebhook(created.id);
    assert.equal(got.name, 'Orders sync');
    assert.equal('secret' in got, false, 'secret only in create/regenerate responses');

    const listed = await client.listWebhooks();
    assert.deepEqual(
      listed.map((w) => w.id),
      [created.id],
    );
    assert.equal(listed[0]!.delivery_logs_count, 0);

    const updated = await client.updateWebhook(created.id, { is_active: false });
    assert.equal(updated.is_active, false);
    assert.equal(updated.name, 'Orders sync', 'omitted fields are kept');
    await client.updateWebhook(created.id, { is_active: true });

    assert.deepEqual(await client.listEvents(), [...KNOWN_EVENTS]);

    const result = await client.sendTest(created.id);
    assert.equal(result.data?.status, 'delivered');
    assert.equal(result.data?.response_status_code, 204);
    const hit = target.hits.at(-1)!;
    assert.equal(hit.url, '/hook');
    assert.deepEqual(
      verifySignature(hit.body, hit.headers['x-skylight-signature'] as string, [created.secret]),
      { ok: true, secretIndex: 0 },
    );

    const page = await client.listDeliveries(created.id, { status: 'delivered', per_page: 5 });
    assert.equal(page.data.length, 1);
    const d = page.data[0]!;
    assert.equal(d.delivery_id, result.data?.delivery_id);
    assert.equal(d.webhook_id, created.id);
    assert.equal(d.attempt_number, 1);
    assert.equal(d.event_type, 'contact.created');
    assert.equal(d.response_status_code, 204);
    assert.match(d.created_at, ISO_MICRO);
    assert.deepEqual(page.meta, { current_page: 1, last_page: 1, per_page: 5, total: 1 });
    assert.equal((await client.listDeliveries(created.id, { status: 'failed' })).data.length, 0);

    const rotated = await client.regenerateSecret(created.id);
    assert.match(rotated.secret, /^whsec_[A-Za-z0-9]{64}$/);
    assert.notEqual(rotated.secret, created.secret);
    await client.sendTest(created.id);
    const after = target.hits.at(-1)!;
    const sig = after.headers['x-skylight-signature'] as string;
    assert.equal(verifySignature(after.body, sig, [rotated.secret]).ok, true);
    assert.equal(verifySignature(after.body, sig, [created.secret]).ok, false, 'old secret stops at once');

    await client.deleteWebhook(created.id);
    const gone = await rejects(client.getWebhook(created.id));
    assert.equal(gone.code, 'not_found');
    assert.equal(gone.message, 'Webhook not found.');
  });

  test('webhooks list: unpaginated (A) and paginated with meta (B) both yield every webhook', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 18; i++) {
      ids.push(
        (
          await client.createWebhook({
            name: `w${i}`,
            url: `${target.url}/w${i}`,
            events: ['contact.created'],
          })
        ).id,
      );
    }
    const a = await client.listWebhooks();
    sandbox.core.setKnobs({ listShape: 'B' });
    const raw = await fetch(`${sandbox.apiUrl}/webhooks`, {
      headers: { authorization: `Bearer ${sandbox.apiKey}` },
    });
    const body = (await raw.json()) as { data: unknown[]; meta: { per_page: number; last_page: number } };
    assert.equal(body.data.length, 15);
    assert.deepEqual([body.meta.per_page, body.meta.last_page], [15, 2]);
    const b = await client.listWebhooks();
    sandbox.core.setKnobs({ listShape: 'A' });
    assert.deepEqual(
      a.map((w) => w.id),
      ids,
    );
    assert.deepEqual(
      b.map((w) => w.id),
      ids,
    );
    for (const id of ids) await client.deleteWebhook(id);
  });

  test('rate-limit headers on every response, and 401 for a wrong key without leaking it', async () => {
    const res = await fetch(`${sandbox.apiUrl}/webhooks/events`, {
      headers: { 'x-api-key': sandbox.apiKey },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-ratelimit-limit'), '1000');
    assert.match(res.headers.get('x-ratelimit-remaining')!, /^\d+$/);
    assert.ok(Number(res.headers.get('x-ratelimit-reset')) > Date.now() / 1000);

    const wrongKey = 'test-wrong-api-key-not-a-real-one';
    const bad = new SkylightClient({ baseUrl: sandbox.apiUrl, apiKey: wrongKey });
    const err = await rejects(bad.listWebhooks());
    assert.equal(err.code, 'provider_error');
    assert.match(err.message, /rejected the API key \(401\)/);
    assert.ok(!err.message.includes(wrongKey));
    const anon = await fetch(`${sandbox.apiUrl}/webhooks`);
    assert.equal(anon.status, 401);
    assert.ok(anon.headers.get('x-ratelimit-limit'));
  });

  test('422 maps to bad_request with per-field issues', async () => {
    const err = await rejects(client.createWebhook({ name: '', url: 'ftp://x', events: ['nope.event'] }));
    assert.equal(err.code, 'bad_request');
    const paths = (err.extra.issues ?? []).map((i) => i.path).sort();
    assert.deepEqual(paths, ['events.0', 'name', 'url']);
    assert.match(err.message, /SkyLight refused POST \/webhooks: The name field is required/);
    const missing = await rejects(client.updateWebhook(999, { name: 'x' }));
    assert.equal(missing.code, 'not_found');
  });
});

describe('client retries and failure mapping', () => {
  test('429 on a GET waits retry_after and succeeds; a POST is not retried', async () => {
    const sandbox = await startSandbox({ rateLimit: { limit: 3, windowMs: 1500 } });
    try {
      const client = new SkylightClient({ baseUrl: sandbox.apiUrl, apiKey: sandbox.apiKey, maxRetries: 2 });
      // Spent by another replica: this process's budget has not seen it, so the POST meets the 429.
      await spendElsewhere(sandbox, 3);
      const postErr = await rejects(
        client.createWebhook({ name: 'x', url: 'https://example.test', events: ['contact.created'] }),
      );
      assert.equal(postErr.code, 'rate_limited');
      assert.ok(postErr.extra.retryAfterS! >= 1 && postErr.extra.retryAfterS! <= 2);
      const t0 = performance.now();
      assert.equal((await client.listEvents()).length, KNOWN_EVENTS.length);
      assert.ok(performance.now() - t0 >= 500, 'waited for the window to reset');
      assert.equal((await sandbox.core.store.listWebhooks()).length, 0, 'the limited POST did nothing');

      const impatient = new SkylightClient({
        baseUrl: sandbox.apiUrl,
        apiKey: sandbox.apiKey,
        maxRetryAfterMs: 100,
      });
      for (let i = 0; i < 3; i++) await impatient.listEvents().catch(() => {});
      const err = await rejects(impatient.listEvents());
      assert.equal(err.code, 'rate_limited', 'a wait above the cap is handed to the caller');
    } finally {
      await sandbox.stop();
    }
  });

  test('a PUT refused with 429 (the toggle, while reconciliation spends the limit) waits and is applied', async () => {
    const sandbox = await startSandbox({ rateLimit: { limit: 3, windowMs: 1500 } });
    try {
      const hook = await sandbox.core.createWebhook({
        name: 'x',
        url: 'https://example.test/api/webhooks/s',
      });
      const client = new SkylightClient({ baseUrl: sandbox.apiUrl, apiKey: sandbox.apiKey, maxRetries: 2 });
      await spendElsewhere(sandbox, 3);
      const updated = await client.updateWebhook(hook.id, { is_active: false });
      assert.equal(updated.is_active, false);
      assert.equal((await sandbox.core.store.listWebhooks())[0]!.isActive, false, 'applied at the provider');
    } finally {
      await sandbox.stop();
    }
  });

  test("one rate budget per key: a reconciliation run and the watchdog leave the operator's share, and no 429 is met", async () => {
    // 24 a window: bulk keeps ceil(24 × 5/12) = 10 for the others, the watchdog ceil(24 / 6) = 4.
    const sandbox = await startSandbox({ rateLimit: { limit: 24, windowMs: 60_000 } });
    try {
      const hook = await sandbox.core.createWebhook({
        name: 'x',
        url: 'https://example.test/api/webhooks/s',
      });
      const statuses: number[] = [];
      const counting: typeof fetch = async (input, init) => {
        const res = await fetch(input, init);
        statuses.push(res.status);
        return res;
      };
      const client = (use: 'operator' | 'watchdog' | 'bulk') =>
        new SkylightClient({ baseUrl: sandbox.apiUrl, apiKey: sandbox.apiKey, use, fetch: counting });

      const before = await managementCounts();
      const run = client('bulk');
      let bulkSent = 0;
      let held: AppError | null = null;
      while (held === null && bulkSent < 30) {
        try {
          await run.listDeliveries(hook.id, { page: 1 });
          bulkSent++;
        } catch (err) {
          held = err as AppError;
        }
      }
      assert.equal(bulkSent, 14, 'the run stops where 10 of the 24 are left');
      assert.equal(held?.code, 'rate_limited');
      assert.match(held!.message, /kept for the watchdog and operators' actions; retry in \d+ s/);
      assert.ok(held!.extra.retryAfterS! > 5, 'the run is told to come back after the window');

      // Concurrent reads count before their answers arrive: 6 of 10 let through, not all 10.
      const watchdog = client('watchdog');
      const reads = await Promise.allSettled(Array.from({ length: 10 }, () => watchdog.listWebhooks()));
      assert.equal(reads.filter((r) => r.status === 'fulfilled').length, 6);

      // The operator's emergency disable goes through at once, on the share kept for it.
      const t0 = performance.now();
      const updated = await client('operator').updateWebhook(hook.id, { is_active: false });
      assert.equal(updated.is_active, false);
      assert.ok(performance.now() - t0 < 2_000, 'not held until the window resets');
      assert.equal((await sandbox.core.store.listWebhooks())[0]!.isActive, false, 'applied at the provider');

      assert.deepEqual(
        statuses.filter((s) => s === 429),
        [],
        'every hold was ours: the provider never had to refuse',
      );
      assert.equal(statuses.length, 14 + 6 + 1);
      // What /metrics shows an operator: the holds by use, none of them a 429.
      const after = await managementCounts();
      const delta = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
      assert.deepEqual(
        ['bulk ok', 'bulk held', 'watchdog ok', 'watchdog held', 'operator ok', 'bulk rate_limited'].map(
          delta,
        ),
        [14, 1, 6, 4, 1, 0],
      );
    } finally {
      await sandbox.stop();
    }
  });

  test('timeout: provider_unreachable; GET retried, POST sent once', async () => {
    const hung = await serve(() => {});
    try {
      const client = new SkylightClient({
        baseUrl: `${hung.url}/api/v1`,
        apiKey: 'k'.repeat(20),
        timeoutMs: 200,
        maxRetries: 1,
      });
      const t0 = performance.now();
      const err = await rejects(client.listWebhooks());
      assert.equal(err.code, 'provider_unreachable');
      assert.match(err.message, /did not answer GET \/webhooks within 200 ms/);
      assert.ok(performance.now() - t0 >= 400);
      assert.equal(hung.hits.length, 2);
      await rejects(client.deleteWebhook(3));
      assert.equal(hung.hits.length, 3);
      assert.equal(hung.hits[2]!.headers['x-api-key'], 'k'.repeat(20));
    } finally {
      await hung.close();
    }
  });

  test('connection refused: provider_unreachable', async () => {
    const gone = await serve(() => {});
    await gone.close();
    const client = new SkylightClient({
      baseUrl: `${gone.url}/api/v1`,
      apiKey: 'secret-key-value',
      maxRetries: 0,
    });
    const err = await rejects(client.listEvents());
    assert.equal(err.code, 'provider_unreachable');
    assert.match(err.message, /Cannot reach SkyLight at 127\.0\.0\.1:\d+/);
    assert.ok(!err.message.includes('secret-key-value'));
  });

  test('5xx: GET retried until it works, POST fails at once', async () => {
    let calls = 0;
    const flaky = await serve((_req, res) => {
      calls++;
      if (calls <= 2)
        return res
          .writeHead(503, { 'content-type': 'application/json' })
          .end('{"success":false,"message":"Down for maintenance"}');
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"success":true,"data":["contact.created"]}');
    });
    try {
      const client = new SkylightClient({ baseUrl: flaky.url, apiKey: 'key-abc', maxRetries: 2 });
      assert.deepEqual(await client.listEvents(), ['contact.created']);
      assert.equal(calls, 3);
      calls = 0;
      const err = await rejects(client.sendTest(1));
      assert.equal(err.code, 'provider_error');
      assert.equal(err.message, 'SkyLight answered 503 for POST /webhooks/1/test: Down for maintenance');
      assert.equal(calls, 1);
    } finally {
      await flaky.close();
    }
  });

  test('malformed or incomplete JSON from the provider: provider_error naming the problem', async () => {
    let reply = 'not json at all';
    const odd = await serve((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(reply),
    );
    try {
      const client = new SkylightClient({ baseUrl: odd.url, apiKey: 'key-abc', maxRetries: 0 });
      const garbage = await rejects(client.listWebhooks());
      assert.equal(garbage.code, 'provider_error');
      assert.equal(garbage.message, 'SkyLight returned malformed JSON for GET /webhooks');

      reply = JSON.stringify({
        success: true,
        data: [{ id: 'seven', name: 'x', url: 'https://a', events: [], is_active: true }],
      });
      const wrong = await rejects(client.listWebhooks());
      assert.equal(wrong.code, 'provider_error');
      assert.match(wrong.message, /unexpected response for GET \/webhooks: data\.0\.id: /);

      reply = JSON.stringify({
        success: true,
        data: { id: 1, name: 'x', url: 'https://a', events: [], is_active: true },
      });
      const noSecret = await rejects(client.regenerateSecret(1));
      assert.equal(noSecret.code, 'provider_error');
      assert.match(noSecret.message, /secret/);
      // Its shape is not documented: the secret alone is taken, wherever the answer puts it.
      reply = JSON.stringify({ success: true, data: { secret: 'whsec_only-the-secret' } });
      assert.deepEqual(await client.regenerateSecret(1), { secret: 'whsec_only-the-secret' });
      reply = JSON.stringify({ secret: 'whsec_top-level' });
      assert.deepEqual(await client.regenerateSecret(1), { secret: 'whsec_top-level' });

      reply = JSON.stringify({
        success: true,
        data: [{ id: 1, name: 'x', url: 'https://a', events: [], is_active: true, extra_field: 42 }],
      });
      const tolerant = await client.listWebhooks();
      assert.equal((tolerant[0] as Record<string, unknown>).extra_field, 42, 'extra fields are kept');
    } finally {
      await odd.close();
    }
  });

  test('an answer larger than 8 MB is refused unread, declared or streamed, and not retried', async () => {
    let calls = 0;
    let declare = true;
    const huge = await serve((_req, res) => {
      calls++;
      const chunk = Buffer.alloc(1_048_576, 0x20);
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(declare ? { 'content-length': String(64 * chunk.length) } : {}),
      });
      // A chunked answer that would go on for 64 MB; the client stops reading past 8.
      let sent = 0;
      const more = () => {
        while (sent < 64) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      res.on('error', () => {});
      more();
    });
    try {
      const client = new SkylightClient({ baseUrl: huge.url, apiKey: 'key-abc', maxRetries: 2 });
      for (const declared of [true, false]) {
        declare = declared;
        calls = 0;
        const err = await rejects(client.listWebhooks());
        assert.equal(err.code, 'provider_error');
        assert.equal(err.message, 'SkyLight answered more than 8 MB for GET /webhooks');
        assert.equal(calls, 1, 'not retried');
      }
    } finally {
      await huge.close();
    }
  });

  test('management client without a configured provider API: unavailable', async () => {
    const { managementFor } = await import('@/lib/api/webhooks');
    await assert.rejects(
      managementFor('skylight', () => null),
      (e: unknown) => e instanceof AppError && e.code === 'unavailable',
    );
    const { provider, client } = await managementFor(undefined, () => ({
      url: 'http://127.0.0.1:1/api/v1',
      key: 'k',
    }));
    assert.equal(provider, 'skylight');
    assert.deepEqual(client.deliveryStatuses, ['pending', 'delivered', 'failed']);
    await assert.rejects(
      managementFor('sly', () => ({ url: 'http://127.0.0.1:1', key: 'k' })),
      (e: unknown) => e instanceof AppError && e.code === 'not_found',
    );
  });

  test('toggling a webhook sends it whole: a provider whose PUT replaces the resource keeps its URL and events', async () => {
    const { managementClient } = await import('@/lib/providers/skylight/management');
    // A SkyLight whose PUT replaces the webhook with the body it was sent (the docs leave it open).
    let hook: Record<string, unknown> = {
      id: 7,
      name: 'orders',
      url: 'https://ops.example.test/api/webhooks/skylightchat',
      events: ['contact.created', 'message.received'],
      is_active: true,
    };
    const provider = await serve((req, res) => {
      const json = (body: unknown) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.method === 'GET' && req.url === '/webhooks') return json({ success: true, data: [hook] });
      if (req.method === 'PUT' && req.url === '/webhooks/7') {
        hook = { id: 7, ...JSON.parse(provider.hits.at(-1)!.body.toString()) };
        return json({ success: true, data: hook });
      }
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"success":false,"message":"Not found"}');
    });
    try {
      const api = managementClient({ url: provider.url, key: 'k' });
      const off = await api.setWebhookActive(7, false);
      assert.equal(off.is_active, false);
      assert.deepEqual(off.events, ['contact.created', 'message.received']);
      assert.equal(off.url, 'https://ops.example.test/api/webhooks/skylightchat');
      assert.deepEqual(JSON.parse(provider.hits.find((h) => h.method === 'PUT')!.body.toString()), {
        name: 'orders',
        url: 'https://ops.example.test/api/webhooks/skylightchat',
        events: ['contact.created', 'message.received'],
        is_active: false,
      });
      assert.equal((await api.setWebhookActive(7, true)).is_active, true);
      assert.deepEqual(hook.events, ['contact.created', 'message.received']);
      // A webhook the list does not have: not found, and nothing is sent.
      const puts = provider.hits.filter((h) => h.method === 'PUT').length;
      const missing = await rejects(api.setWebhookActive(8, false));
      assert.equal(missing.code, 'not_found');
      assert.equal(provider.hits.filter((h) => h.method === 'PUT').length, puts);
    } finally {
      await provider.close();
    }
  });
});
