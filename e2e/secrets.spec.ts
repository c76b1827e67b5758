import { createHmac, randomUUID } from 'node:crypto';
import type { APIRequestContext } from '@playwright/test';
import { API_TOKEN, BASE_URL, WEBHOOK_SECRET } from './env';
import { expect, login, screenshot, test } from './fixtures';

type SecretsView = {
  secrets: Array<{
    id: number | null;
    label: string | null;
    last4: string;
    status: string;
    recent_matches: number;
  }>;
};

const secrets = async (request: APIRequestContext): Promise<SecretsView> =>
  (await (await request.get('/api/sources/skylightchat/secrets')).json()).data;

const refusedSince = async (request: APIRequestContext, from: string): Promise<number> => {
  const res = await request.get(
    `/api/deliveries?source=skylightchat&outcome=rejected&from=${encodeURIComponent(from)}&limit=100`,
  );
  return (await res.json()).data.length;
};

/** A delivery signed with `secret`, as SkyLight would send it; returns the answer's status. */
async function sendSigned(request: APIRequestContext, secret: string) {
  const deliveryId = randomUUID();
  const body = JSON.stringify({
    event: 'contact.created',
    delivery_id: deliveryId,
    timestamp: new Date().toISOString(),
    data: { contact: { id: 4242, name: 'Old Secret', phone: '+15550000000', type: 'whatsapp' } },
  });
  const res = await request.post('/api/webhooks/skylightchat', {
    data: body,
    headers: {
      'content-type': 'application/json',
      'x-skylight-event': 'contact.created',
      'x-skylight-delivery': deliveryId,
      'x-skylight-signature': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    },
  });
  return { status: res.status(), deliveryId };
}

test.afterAll(async ({ playwright }) => {
  // The specs after this one sign with WEBHOOK_SECRET: give it back as an active secret.
  const ctx = await playwright.request.newContext({ baseURL: BASE_URL });
  const res = await ctx.post('/api/sources/skylightchat/secrets', {
    data: { secret: WEBHOOK_SECRET, label: 'restored after the rotation spec', overlap_seconds: 2_592_000 },
    headers: { Authorization: `Bearer ${API_TOKEN}` },
  });
  expect(res.status()).toBe(201);
  await ctx.dispose();
});

test('rotate the sandbox webhook secret while deliveries flow, retire the old one, diagnose a late sender', async ({
  page,
}) => {
  test.setTimeout(180_000);
  await login(page);
  const started = new Date().toISOString();
  // Deliveries are flowing from the sandbox before the rotation.
  await expect
    .poll(async () => (await secrets(page.request)).secrets.some((s) => s.recent_matches > 0))
    .toBe(true);

  await page.goto('/webhooks');
  await page.getByRole('button', { name: 'Secrets of skylightchat' }).click();
  const panel = page.getByRole('region', { name: 'Signing secrets: skylightchat' });
  await expect(panel.getByRole('button', { name: 'Rotate at SkyLight Chat' })).toBeEnabled();
  await panel.getByLabel('Keep the previous secret for').selectOption({ label: '24 hours' });
  await panel.getByRole('button', { name: 'Rotate at SkyLight Chat' }).click();
  await expect(panel.getByRole('status')).toContainText('stays accepted for 24 hours');

  // The sandbox now signs with the new secret: it matches deliveries, and nothing was refused.
  const fresh = async () =>
    (await secrets(page.request)).secrets.find((s) => s.status === 'active' && s.id !== null);
  await expect.poll(async () => (await fresh())?.recent_matches ?? 0, { timeout: 60_000 }).toBeGreaterThan(2);
  expect(await refusedSince(page.request, started)).toBe(0);
  await expect(panel.getByTestId('readiness').first()).toContainText(
    /Old secret …\w{4} (last used .* ago|never used); \d+ % of the last/,
  );
  await expect(panel.getByRole('row').filter({ hasText: 'overlap: still accepted' }).first()).toBeVisible();
  await screenshot(page, 'secrets-rotated-overlap');

  // Retire the old secrets now (the environment's and the sandbox's previous one).
  const oldCount = (await secrets(page.request)).secrets.filter((s) => s.status === 'expiring').length;
  expect(oldCount).toBeGreaterThan(0);
  for (let i = 0; i < oldCount; i++) {
    const row = panel.getByRole('row').filter({ hasText: 'overlap: still accepted' }).first();
    await row.getByRole('button', { name: 'Retire now' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Retire now' }).click();
    await expect(panel.getByRole('status')).toContainText('retired');
    await expect(panel.getByRole('row').filter({ hasText: 'overlap: still accepted' })).toHaveCount(
      oldCount - i - 1,
    );
  }
  expect(await refusedSince(page.request, started)).toBe(0);
  await screenshot(page, 'secrets-old-retired');

  // A sender still on the old secret is refused, and the delivery page says why.
  const late = await sendSigned(page.request, WEBHOOK_SECRET);
  expect(late.status).toBe(400);
  let receiptId = 0;
  await expect
    .poll(async () => {
      const res = await page.request.get(`/api/deliveries?q=${late.deliveryId}`);
      receiptId = (await res.json()).data[0]?.id ?? 0;
      return receiptId;
    })
    .toBeGreaterThan(0);
  await page.goto(`/deliveries/${receiptId}`);
  await expect(page.getByTestId('forensics-cause')).toHaveText('matches a retired secret');
  await expect(page.getByRole('region', { name: 'Signature forensics' })).toContainText(
    'the sender still signs with the old secret',
  );
  await screenshot(page, 'secrets-forensics-retired');

  // The overview breaks refused signatures down by cause.
  await page.goto('/');
  await expect(page.getByRole('list', { name: 'Rejection causes' })).toContainText(
    'matches a retired secret',
  );
  await screenshot(page, 'secrets-overview-causes');

  // No secret value anywhere in what the API answered.
  const body = JSON.stringify(await secrets(page.request));
  expect(body).not.toContain(WEBHOOK_SECRET);
});
