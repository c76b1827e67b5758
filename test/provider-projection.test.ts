import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chromium } from '@playwright/test';
import {
  type FakeProvider,
  LEAKED_FIELD_VALUE,
  LEAKED_SECRET,
  PROVIDER_KEY,
  startFakeProvider,
} from './helpers/fake-provider';
import { type NextApp, startNextApp } from './helpers/next-app';

// A provider that returns a webhook's `secret` (and fields no contract lists) on GET: the provider
// routes answer an allow-listed projection, so neither the JSON API nor the rendered page carries it.

const TOKEN = 'projection-api-token-0123456789abcdef';
const PASSWORD = 'projection-password';
const WEBHOOK_KEYS = [
  'created_at',
  'delivery_logs_count',
  'events',
  'id',
  'is_active',
  'name',
  'updated_at',
  'url',
];
const DELIVERY_KEYS = [
  'attempt_number',
  'created_at',
  'delivery_id',
  'event_type',
  'id',
  'response_body',
  'response_status_code',
  'status',
  'webhook_id',
];

let provider: FakeProvider;
let app: NextApp;

before(async () => {
  provider = await startFakeProvider([
    {
      id: 11,
      name: 'Ops receiver',
      url: 'https://ops.example/api/webhooks/skylightchat',
      events: ['contact.created', 'message.received'],
      is_active: true,
    },
  ]);
  app = await startNextApp({
    DASHBOARD_API_TOKEN: TOKEN,
    DASHBOARD_PASSWORD: PASSWORD,
    SKYLIGHT_API_KEY: PROVIDER_KEY,
    SKYLIGHT_API_URL: provider.url,
    SKYLIGHT_WEBHOOK_SECRET: 'projection-signing-secret',
  });
});
after(async () => {
  await app?.close();
  await provider?.close();
});

function api(path: string, init: RequestInit = {}) {
  return fetch(`${app.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, ...init.headers },
  });
}

function assertNoLeak(text: string, where: string) {
  assert.ok(!text.includes(LEAKED_SECRET), `${where} carries the provider's secret`);
  assert.ok(!text.includes(LEAKED_FIELD_VALUE), `${where} carries a field no contract lists`);
  assert.doesNotMatch(text, /"secret"|"payload"|"request_headers"|"routing"/, where);
}

describe('provider objects reach the browser as an allow-list', () => {
  test('GET /api/provider/webhooks: the listed fields only', async () => {
    const res = await api('/api/provider/webhooks');
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assertNoLeak(text, 'the webhook list');
    const [w] = JSON.parse(text).data;
    assert.deepEqual(Object.keys(w).sort(), WEBHOOK_KEYS);
    assert.equal(w.name, 'Ops receiver');
    assert.ok(provider.seen.includes('GET /webhooks'), 'the answer came from the provider');
  });

  test("GET /api/provider/webhooks/:id/deliveries: the rows' and the paging's listed fields only", async () => {
    const res = await api('/api/provider/webhooks/11/deliveries?status=failed');
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assertNoLeak(text, 'the delivery log');
    // The provider's rows in `data`, its paging beside them, like every other list.
    const { data, meta } = JSON.parse(text);
    assert.equal(data.length, 2);
    for (const row of data) assert.deepEqual(Object.keys(row).sort(), DELIVERY_KEYS);
    assert.deepEqual(meta, { current_page: 1, last_page: 1, per_page: 25, total: 2 });
  });

  test('PATCH /api/provider/webhooks/:id: the updated webhook, projected; the audit row holds no secret', async () => {
    const res = await api('/api/provider/webhooks/11', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ is_active: false }),
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assertNoLeak(text, 'the PATCH answer');
    assert.deepEqual(Object.keys(JSON.parse(text).data).sort(), WEBHOOK_KEYS);
    assert.equal(provider.webhooks[0]!.is_active, false, 'the provider applied it');

    const { auditLog } = await import('@/db/schema');
    const rows = await app.db.db.select().from(auditLog);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.action, 'webhook_toggle');
    assert.equal(rows[0]!.target, '11');
    assertNoLeak(JSON.stringify(rows), 'the audit row');
  });

  test('the webhooks page in Chromium: the table shows the webhook, the page and its traffic hold no secret', async () => {
    const login = await fetch(`${app.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: app.url },
      body: JSON.stringify({ password: PASSWORD }),
    });
    assert.equal(login.status, 200, await login.text());
    const [name, value] = login.headers.getSetCookie()[0]!.split(';')[0]!.split('=') as [string, string];

    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    try {
      const context = await browser.newContext();
      await context.addCookies([{ name, value, url: app.url }]);
      const page = await context.newPage();
      const reading: Promise<string>[] = [];
      page.on('response', (r) => {
        if (r.url().includes('/api/')) reading.push(r.text().then((t) => `${r.url()}\n${t}`));
      });
      const deliveries = page.waitForResponse((r) =>
        r.url().includes('/api/provider/webhooks/11/deliveries'),
      );
      await page.goto(`${app.url}/webhooks?webhook=11`);
      await page.getByRole('table', { name: 'Webhooks' }).getByText('Ops receiver').waitFor();
      await deliveries;
      await page.getByText('dlv-fake-502').waitFor();
      const html = await page.content();
      assertNoLeak(html, 'the rendered page');
      const bodies = await Promise.all(reading);
      assert.ok(
        bodies.some((b) => b.includes('/api/provider/webhooks\n')),
        'the page fetched the list',
      );
      for (const b of bodies) assertNoLeak(b, b.split('\n')[0]!);
    } finally {
      await browser.close();
    }
  });
});
