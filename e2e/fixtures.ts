import { createHmac, randomUUID } from 'node:crypto';
import { type APIRequestContext, test as base, expect, type Page } from '@playwright/test';
import { ADMIN_EMAIL, BASE_URL, DOWNSTREAM_URL, PASSWORD, SLY_SECRET, WEBHOOK_SECRET } from './env';

/**
 * `page` that fails the test on any console error or uncaught exception, and on any 5xx answer.
 * Chromium reports every non-2xx fetch as "Failed to load resource"; those are expected (401 on a
 * wrong password, 409 on a double retry) and checked by status instead.
 */
export const test = base.extend<{ guard: undefined }>({
  guard: [
    async ({ page }, use) => {
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('response', (r) => {
        if (r.status() >= 500) problems.push(`${r.status()} ${r.url()}`);
      });
      await use(undefined);
      expect(problems, 'console errors, page errors or 5xx answers').toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

/** Logs the browser context in through the API (the login form has its own test): the admin by default. */
export async function login(page: Page, email = ADMIN_EMAIL, password = PASSWORD) {
  const res = await page.request.post('/api/auth/login', {
    data: { email, password },
    headers: { Origin: BASE_URL },
  });
  expect(res.status()).toBe(200);
}

export async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: `test-results/screenshots/${name}.png`, fullPage: true });
}

type Delivery = { event: string; deliveryId?: string; data: Record<string, unknown>; timestamp?: Date };

/** Sends a correctly signed SkyLight delivery to the receiver, like the provider would. */
export async function postDelivery(request: APIRequestContext, d: Delivery) {
  const deliveryId = d.deliveryId ?? randomUUID();
  const at = d.timestamp ?? new Date();
  const body = JSON.stringify({
    event: d.event,
    delivery_id: deliveryId,
    timestamp: at.toISOString(),
    data: d.data,
  });
  const res = await request.post('/api/webhooks/skylightchat', {
    data: body,
    headers: {
      'content-type': 'application/json',
      'x-skylight-event': d.event,
      'x-skylight-delivery': deliveryId,
      'x-skylight-timestamp': String(Math.floor(at.getTime() / 1000)),
      'x-skylight-signature': `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`,
    },
  });
  expect(res.status()).toBe(200);
  return deliveryId;
}

/** Sends a Sly-signed event (`t=…,v1=…` over "{t}.{body}") to the default Sly source; returns its id. */
export async function postSlyDelivery(request: APIRequestContext, type = 'transfer.completed') {
  const id = `evt_${randomUUID()}`;
  const body = JSON.stringify({
    id,
    type,
    created_at: new Date().toISOString(),
    data: { transfer_id: `tx_${id}` },
  });
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', SLY_SECRET).update(`${t}.${body}`).digest('hex');
  const res = await request.post('/api/webhooks/sly', {
    data: body,
    headers: {
      'content-type': 'application/json',
      'x-sly-signature': `t=${t},v1=${v1}`,
      'x-sly-event-id': id,
      'x-sly-delivery-id': `del_${randomUUID()}`,
    },
  });
  expect(res.status()).toBe(200);
  return id;
}

/** An inbound message: its handler notifies the downstream, so a downstream outage fails it. */
export function inboundMessage(content: string) {
  const id = Math.floor(Math.random() * 1e9) + 1;
  return {
    event: 'message.received',
    data: {
      message: {
        id,
        direction: 'inbound',
        channel: 'telegram',
        content,
        status: 'received',
        sent_at: new Date().toISOString(),
      },
      contact: { id: 4242, name: 'E2E Tester', phone: '+10000000000', type: 'telegram' },
    },
  };
}

export async function setDownstreamOutage(request: APIRequestContext, on: boolean) {
  const res = await request.post(`${DOWNSTREAM_URL}/outage`, { data: { on } });
  expect(res.ok()).toBe(true);
}

/** The receipt row of a delivery id (newest first), through the JSON API. */
export async function receiptOf(request: APIRequestContext, deliveryId: string) {
  const res = await request.get(`/api/deliveries?q=${encodeURIComponent(deliveryId)}&limit=5`);
  expect(res.status()).toBe(200);
  const rows = (await res.json()).data as Array<{ id: number; outcome: string; event_id: number | null }>;
  return rows.find((r) => r.outcome === 'accepted') ?? null;
}

/** The processing status of the event behind a delivery id. */
export async function eventStatusOf(request: APIRequestContext, deliveryId: string): Promise<string | null> {
  const receipt = await receiptOf(request, deliveryId);
  if (!receipt) return null;
  const res = await request.get(`/api/deliveries/${receipt.id}`);
  return ((await res.json()).data.event?.status as string | undefined) ?? null;
}
