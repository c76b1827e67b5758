import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { PROVIDER_NAMES, providerOf } from '@/lib/providers/registry';
import { parseEnvelope } from '@/lib/providers/skylight/envelope';
import { KNOWN_EVENTS, PROVIDER_RETRY_DELAYS_MS } from '@/lib/providers/skylight/protocol';
import type { Knobs } from '@/lib/providers/skylight/sandbox/knobs';
import { type Sandbox, startSandbox } from '@/lib/providers/skylight/sandbox/server';
import { World } from '@/lib/providers/skylight/sandbox/world';
import { verifySignature } from '@/lib/providers/skylight/signature';

type Hit = { at: number; headers: IncomingMessage['headers']; raw: Buffer; body: Record<string, unknown> };

/** A webhook target on an ephemeral port; `status` decides each answer. */
async function startTarget(status: (hit: Hit, n: number) => number = () => 200) {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const hit = {
        at: performance.now(),
        headers: req.headers,
        raw,
        body: JSON.parse(raw.toString('utf8')),
      };
      hits.push(hit);
      res.writeHead(status(hit, hits.length)).end('{"received":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/webhooks/skylightchat`,
    hits,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const end = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Map.groupBy is Node 21+. */
function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) out.set(key(item), [...(out.get(key(item)) ?? []), item]);
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ISO_MICRO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** A sandbox with one webhook to a fresh target. */
async function setup(knobs: Partial<Knobs>, status?: Parameters<typeof startTarget>[0]) {
  const target = await startTarget(status);
  const sandbox = await startSandbox({ knobs });
  const webhook = await sandbox.core.createWebhook({ name: 'test', url: target.url });
  return {
    target,
    sandbox,
    webhook,
    close: async () => {
      await sandbox.stop();
      await target.close();
    },
  };
}

describe('sender: signed deliveries over HTTP', () => {
  let s: Awaited<ReturnType<typeof setup>>;
  before(async () => {
    s = await setup({ shape: 'A' });
  });
  after(() => s.close());

  test('every delivery verifies against the webhook secret and carries the documented headers', async () => {
    const queued = await s.sandbox.core.sender.emit(60);
    assert.equal(queued, 60);
    await until('60 deliveries', () => s.target.hits.length === 60);
    const now = Date.now() / 1000;
    for (const hit of s.target.hits) {
      const sig = hit.headers['x-skylight-signature'] as string;
      assert.deepEqual(verifySignature(hit.raw, sig, [s.webhook.secret]), { ok: true, secretIndex: 0 });
      assert.equal(hit.headers['content-type'], 'application/json');
      assert.equal(hit.headers['x-skylight-event'], hit.body.event);
      assert.equal(hit.headers['x-skylight-delivery'], hit.body.delivery_id);
      assert.match(
        hit.headers['x-skylight-delivery'] as string,
        /^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/,
      );
      assert.ok(Math.abs(Number(hit.headers['x-skylight-timestamp']) - now) < 5);
      assert.ok((KNOWN_EVENTS as readonly string[]).includes(hit.body.event as string));
    }
    await until('log rows finished', async () => {
      const page = await s.sandbox.core.store.listDeliveries(s.webhook.id, { page: 1, perPage: 100 });
      return page.total === 60 && page.items.every((d) => d.status === 'delivered');
    });
    assert.equal(s.sandbox.core.sender.stats().delivered, 60);
  });

  test('streams at the configured rate', async () => {
    const before = s.target.hits.length;
    s.sandbox.core.setKnobs({ rate: 50 });
    s.sandbox.core.sender.start();
    await sleep(1000);
    s.sandbox.core.setKnobs({ rate: 0 });
    await sleep(100);
    const sent = s.target.hits.length - before;
    assert.ok(sent >= 35 && sent <= 65, `expected ~50 deliveries in 1 s, got ${sent}`);
  });
});

describe('sender: retries', () => {
  test('a failing target gets retries on the scaled 2/10/30 schedule, then `failed`', async () => {
    const timeScale = 600; // 200 ms, 1 s, 3 s
    const s = await setup({ timeScale }, () => 500);
    try {
      await s.sandbox.core.sender.emit(1, 'contact.created');
      await until('4 attempts', () => s.target.hits.length === 4, 10_000);
      const gaps = s.target.hits.slice(1).map((h, i) => h.at - s.target.hits[i]!.at);
      const expected = PROVIDER_RETRY_DELAYS_MS.map((d) => d / timeScale);
      gaps.forEach((gap, i) => {
        assert.ok(
          gap >= expected[i]! - 5 && gap <= expected[i]! + 300,
          `gap ${i}: ${gap} ms vs ${expected[i]} ms`,
        );
      });
      console.log(
        `measured retry gaps (ms): ${gaps.map((g) => g.toFixed(0)).join(', ')} (expected ${expected.join(', ')})`,
      );
      // Stable mode: the same id and the same bytes on every attempt.
      assert.equal(new Set(s.target.hits.map((h) => h.raw.toString())).size, 1);
      await until('final failure', () => s.sandbox.core.sender.stats().failed === 1);
      await sleep(400);
      assert.equal(s.target.hits.length, 4, 'no fifth attempt');
      const log = await s.sandbox.core.store.listDeliveries(s.webhook.id, { page: 1, perPage: 10 });
      assert.deepEqual(
        log.items.map((d) => [d.attemptNumber, d.status, d.responseStatusCode]),
        [
          [4, 'failed', 500],
          [3, 'failed', 500],
          [2, 'failed', 500],
          [1, 'failed', 500],
        ],
      );
      assert.equal(s.sandbox.core.sender.stats().retriesPending, 0);
    } finally {
      await s.close();
    }
  });

  test('maxAttempts 3 (C5) stops after the 10-minute retry', async () => {
    const s = await setup({ timeScale: 6000, maxAttempts: 3 }, () => 503);
    try {
      await s.sandbox.core.sender.emit(1, 'contact.created');
      await until('final failure', () => s.sandbox.core.sender.stats().failed === 1);
      await sleep(500);
      assert.equal(s.target.hits.length, 3);
    } finally {
      await s.close();
    }
  });

  test('per-attempt ids: each retry has a new delivery_id and the same data and timestamp', async () => {
    const s = await setup({ timeScale: 6000, idMode: 'per-attempt', shape: 'B' }, (_h, n) =>
      n <= 2 ? 502 : 200,
    );
    try {
      await s.sandbox.core.sender.emit(1, 'message.received');
      await until('3 attempts', () => s.target.hits.length === 3);
      const ids = s.target.hits.map((h) => h.body.delivery_id);
      assert.equal(new Set(ids).size, 3);
      assert.deepEqual(
        s.target.hits.map((h) => h.headers['x-skylight-delivery']),
        ids,
      );
      for (const h of s.target.hits) {
        assert.deepEqual(h.body.data, s.target.hits[0]!.body.data);
        assert.equal(h.body.timestamp, s.target.hits[0]!.body.timestamp);
        assert.equal(
          verifySignature(h.raw, h.headers['x-skylight-signature'] as string, [s.webhook.secret]).ok,
          true,
        );
      }
      await until('delivered', () => s.sandbox.core.sender.stats().delivered === 1);
      const log = await s.sandbox.core.store.listDeliveries(s.webhook.id, { page: 1, perPage: 10 });
      assert.deepEqual(
        log.items.map((d) => d.status),
        ['delivered', 'failed', 'failed'],
      );
    } finally {
      await s.close();
    }
  });

  test('a target that never answers in time is a failed attempt', async () => {
    const target = await startTarget();
    const hang = createServer(() => {});
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    const sandbox = await startSandbox({
      deliveryTimeoutMs: 150,
      knobs: { timeScale: 100_000, maxAttempts: 3 },
    });
    try {
      const w = await sandbox.core.createWebhook({
        name: 'slow',
        url: `http://127.0.0.1:${(hang.address() as AddressInfo).port}/hook`,
      });
      await sandbox.core.sender.emit(1, 'contact.created');
      await until('final failure', () => sandbox.core.sender.stats().failed === 1);
      const log = await sandbox.core.store.listDeliveries(w.id, { page: 1, perPage: 10 });
      assert.equal(log.total, 3);
      assert.ok(log.items.every((d) => d.status === 'failed' && d.responseStatusCode === null));
      assert.match(log.items[0]!.responseBody!, /no response within 150 ms/);
    } finally {
      await sandbox.stop();
      hang.closeAllConnections();
      hang.close();
      await target.close();
    }
  });
});

describe('sender: disabled webhooks', () => {
  test('a disabled webhook gets nothing while another active one gets everything', async () => {
    const s = await setup({});
    const other = await startTarget();
    try {
      const off = await s.sandbox.core.createWebhook({ name: 'off', url: other.url });
      await s.sandbox.core.updateWebhook(off.id, { isActive: false });
      await s.sandbox.core.sender.emit(25);
      await until('25 deliveries', () => s.target.hits.length === 25);
      await sleep(200);
      assert.equal(other.hits.length, 0);
      assert.equal((await s.sandbox.core.store.listDeliveries(off.id, { page: 1, perPage: 10 })).total, 0);
    } finally {
      await other.close();
      await s.close();
    }
  });

  test('disabling drops pending retries: marked failed, never sent', async () => {
    const s = await setup({ timeScale: 300 }, () => 500); // first retry after 400 ms
    try {
      await s.sandbox.core.sender.emit(1, 'contact.created');
      await until('first attempt logged', () => s.sandbox.core.sender.stats().retriesPending === 1);
      await s.sandbox.core.updateWebhook(s.webhook.id, { isActive: false });
      await sleep(800);
      assert.equal(s.target.hits.length, 1);
      const log = await s.sandbox.core.store.listDeliveries(s.webhook.id, { page: 1, perPage: 10 });
      assert.deepEqual(
        log.items.map((d) => [d.attemptNumber, d.status, d.responseBody]),
        [
          [2, 'failed', 'webhook disabled: pending retry dropped'],
          [1, 'failed', '{"received":true}'],
        ],
      );
      assert.equal(s.sandbox.core.sender.stats().dropped, 1);
    } finally {
      await s.close();
    }
  });
});

describe('sender: duplicates and envelope shapes', () => {
  test('stable mode: duplicates are byte-identical with the same delivery_id', async () => {
    const s = await setup({ duplicates: 1 });
    try {
      await s.sandbox.core.sender.emit(10);
      await until('20 requests', () => s.target.hits.length === 20);
      const byId = groupBy(s.target.hits, (h) => h.body.delivery_id as string);
      assert.equal(byId.size, 10);
      for (const pair of byId.values()) {
        assert.equal(pair.length, 2);
        assert.ok(pair[0]!.raw.equals(pair[1]!.raw));
      }
      // The target sees a request before the sender has read its answer.
      await until('duplicates counted', () => s.sandbox.core.sender.stats().duplicates === 10);
    } finally {
      await s.close();
    }
  });

  test('per-attempt mode: duplicates carry a new delivery_id with the same data and timestamp', async () => {
    const s = await setup({ duplicates: 1, idMode: 'per-attempt' });
    try {
      await s.sandbox.core.sender.emit(10);
      await until('20 requests', () => s.target.hits.length === 20);
      assert.equal(new Set(s.target.hits.map((h) => h.body.delivery_id)).size, 20);
      const byContent = groupBy(s.target.hits, (h) => JSON.stringify([h.body.timestamp, h.body.data]));
      assert.equal(byContent.size, 10);
      for (const pair of byContent.values()) assert.equal(pair.length, 2);
    } finally {
      await s.close();
    }
  });

  test('shape A is nested with an ISO timestamp; shape B is flat with Unix seconds; both parse', async () => {
    for (const shape of ['A', 'B'] as const) {
      const s = await setup({ shape, skewMs: -3_600_000 });
      try {
        const before = Date.now();
        for (const type of KNOWN_EVENTS) await s.sandbox.core.sender.emit(1, type);
        await until('one of each', () => s.target.hits.length === KNOWN_EVENTS.length);
        for (const h of s.target.hits) {
          const parsed = parseEnvelope(h.raw, null);
          assert.ok(parsed.ok, `${shape} ${h.body.event} parses`);
          const ts = h.body.timestamp;
          const eventMs = shape === 'A' ? Date.parse(ts as string) : (ts as number) * 1000;
          if (shape === 'A') assert.match(ts as string, ISO_MICRO);
          else assert.ok(Number.isInteger(ts));
          // Skew moves both the event time and the send time an hour back.
          assert.ok(Math.abs(eventMs - (before - 3_600_000)) < 5000);
          assert.ok(Math.abs(Number(h.headers['x-skylight-timestamp']) * 1000 - (before - 3_600_000)) < 5000);
          const data = h.body.data as Record<string, unknown>;
          const entity = (h.body.event as string).split('.')[0]!;
          if (shape === 'A') assert.equal(typeof data[entity], 'object', `${h.body.event} nests ${entity}`);
          else assert.equal(typeof data.id, 'number', `${h.body.event} is flat`);
        }
        const msg = s.target.hits.find((h) => h.body.event === 'message.received')!.body.data as Record<
          string,
          unknown
        >;
        if (shape === 'B')
          assert.deepEqual(
            [msg.message_by, typeof msg.value, typeof msg.contact_id],
            ['contact', 'string', 'number'],
          );
        else assert.equal((msg.message as Record<string, unknown>).direction, 'inbound');
      } finally {
        await s.close();
      }
    }
  });
});

describe('world: ids consistent over time', () => {
  test('contacts exist before they get messages, bookings, updates or deletion, and never after', () => {
    const world = new World(40);
    const live = new Set<number>();
    const seen = new Map<string, number>();
    let lastMessage = 0;
    for (let i = 0; i < 3000; i++) {
      const ev = world.next(new Date(), 0.1);
      seen.set(ev.type, (seen.get(ev.type) ?? 0) + 1);
      const a = ev.data.A as Record<string, Record<string, unknown>>;
      const b = ev.data.B;
      if (ev.type === 'contact.created') {
        const id = a.contact!.id as number;
        assert.ok(!live.has(id), 'contact ids are new');
        assert.equal(b.id, id);
        live.add(id);
        continue;
      }
      const contactId = (a.contact?.id ?? a.booking?.contact_id) as number;
      assert.ok(live.has(contactId), `${ev.type} refers to live contact ${contactId}`);
      if (ev.type === 'contact.deleted') live.delete(contactId);
      if (ev.type.startsWith('message.')) {
        const id = a.message!.id as number;
        assert.ok(id > lastMessage, 'message ids grow');
        assert.equal(b.contact_id, contactId);
        lastMessage = id;
      }
      assert.ok(live.size <= 40);
    }
    for (const type of KNOWN_EVENTS) assert.ok((seen.get(type) ?? 0) > 20, `${type} occurs`);
  });

  test('failure share: invalid bookings and flaky markers in about that share of events', () => {
    const world = new World();
    world.next(new Date(), 0, 'contact.created');
    const kinds = { none: 0, invalid: 0, flaky: 0 };
    for (let i = 0; i < 4000; i++) {
      const ev = world.next(new Date(), 0.2);
      kinds[ev.failure]++;
      const text = JSON.stringify(ev.data.A);
      if (ev.failure === 'invalid') assert.match(text, /"starts_at":"tomorrow 7pm"/);
      if (ev.failure === 'flaky') assert.match(text, /\[flaky:\d+:[A-Za-z0-9]{10}\] /);
    }
    const share = (kinds.invalid + kinds.flaky) / 4000;
    assert.ok(share > 0.17 && share < 0.23, `failure share ${share}`);
  });
});

describe('downstream sink and control API', () => {
  let sandbox: Sandbox;
  const control = (path: string, init: RequestInit = {}, key = sandbox.apiKey) =>
    fetch(`${sandbox.controlUrl}${path}`, {
      ...init,
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
    });
  const notify = (text: string) =>
    fetch(sandbox.downstreamUrl, {
      method: 'POST',
      body: JSON.stringify({ text, event: 'message.received' }),
    });

  before(async () => {
    sandbox = await startSandbox();
  });
  after(() => sandbox.stop());

  test('Slack-style notify, outage switch and flaky markers', async () => {
    const ok = await notify('New message');
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'ok');
    assert.equal((await fetch(sandbox.downstreamUrl, { method: 'POST', body: '{}' })).status, 400);

    const on = await control('/downstream/outage', { method: 'POST', body: JSON.stringify({ on: true }) });
    assert.deepEqual(((await on.json()) as { data: { outage: boolean } }).data.outage, true);
    assert.equal((await notify('During outage')).status, 500);
    await control('/downstream/outage', { method: 'POST', body: JSON.stringify({ on: false }) });

    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await notify('[flaky:2:abc123] Haircut')).status);
    assert.deepEqual(statuses, [500, 500, 200, 200]);

    const res = await control('/downstream');
    const d = (
      (await res.json()) as {
        data: { received: number; accepted: number; failed: number; recent: unknown[] };
      }
    ).data;
    assert.deepEqual([d.received, d.accepted, d.failed], [7, 3, 4]);
    assert.equal(d.recent.length, 7);
  });

  test('knobs, send on demand and stats over HTTP; the key is required', async () => {
    assert.equal((await control('/stats', {}, 'wrong')).status, 401);
    const target = await startTarget();
    try {
      await sandbox.core.createWebhook({ name: 't', url: target.url, events: ['contact.created'] });
      const patched = await control('/knobs', {
        method: 'PATCH',
        body: JSON.stringify({ shape: 'B', duplicates: 0 }),
      });
      assert.equal(((await patched.json()) as { data: Knobs }).data.shape, 'B');
      const invalid = await control('/knobs', { method: 'PATCH', body: JSON.stringify({ shape: 'C' }) });
      assert.equal(invalid.status, 422);
      const sent = await control('/send', {
        method: 'POST',
        body: JSON.stringify({ count: 5, event: 'contact.created' }),
      });
      assert.equal(sent.status, 202);
      assert.deepEqual(((await sent.json()) as { data: unknown }).data, { events: 5, deliveries: 5 });
      await until('5 deliveries', () => target.hits.length === 5);
      assert.ok(target.hits.every((h) => typeof h.body.timestamp === 'number'));
      await until('stats', async () => {
        const stats = (await (await control('/stats')).json()) as { data: { sender: { delivered: number } } };
        return stats.data.sender.delivered === 5;
      });
    } finally {
      await target.close();
    }
  });
});

describe("every provider's test sender", () => {
  test('a redirect is a failed attempt, retried, and the signed body never follows it', async () => {
    let redirected = 0;
    const server = createServer((req, res) => {
      req.resume();
      if (req.url === '/elsewhere') {
        redirected++;
        res.writeHead(200).end();
        return;
      }
      res.writeHead(308, { location: '/elsewhere' }).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      for (const name of PROVIDER_NAMES) {
        const make = providerOf(name).sandboxSender;
        if (!make) continue;
        const sender = await make({ url, secret: 'whsec_redirect_test' });
        const sent = await sender.send({ type: providerOf(name).knownEvents[0]!, data: {} });
        assert.ok(sent.attempts.length > 1, `${name}: retried`);
        assert.ok(
          sent.attempts.every((a) => a.status === 308),
          `${name}: ${sent.attempts.map((a) => a.status)}`,
        );
      }
      assert.equal(redirected, 0, 'no request followed the redirect');
    } finally {
      server.close();
    }
  });
});
