import { randomUUID } from 'node:crypto';
import { expect, login, postDelivery, screenshot, test } from './fixtures';

test('every page has an icon, and an unknown path keeps the navigation', async ({ page }) => {
  await login(page);
  const missing: string[] = [];
  page.on('response', (r) => {
    if (r.status() === 404) missing.push(r.url());
  });
  await page.goto('/');
  await expect(page.getByRole('navigation').first()).toBeVisible();
  const icon = await page.locator('link[rel~="icon"]').first().getAttribute('href');
  expect(icon).toBeTruthy();
  const res = await page.request.get(icon!);
  expect(res.status()).toBe(200);
  expect(res.headers()['content-type']).toContain('image/');
  expect(missing, 'no 404 while loading a page').toEqual([]);

  const answer = await page.goto('/no-such-page');
  expect(answer?.status()).toBe(404);
  await expect(page.getByText('Page not found')).toBeVisible();
  await expect(page.getByRole('navigation').first().getByRole('link', { name: 'Deliveries' })).toBeVisible();
  await screenshot(page, 'not-found');
});

test('a duplicate by content fingerprint can be processed as a new event', async ({ page }) => {
  await login(page);
  const data = { contact: { id: 700_000 + Math.floor(Math.random() * 1e5), name: 'Twice', status: 'open' } };
  await postDelivery(page.request, { event: 'contact.updated', data });
  const second = randomUUID();
  await postDelivery(page.request, { event: 'contact.updated', deliveryId: second, data });
  const list = await page.request.get(`/api/deliveries?q=${second}`);
  const [row] = (await list.json()).data as Array<{ id: number; outcome: string; reason: string }>;
  expect([row?.outcome, row?.reason]).toEqual(['duplicate', 'fingerprint']);

  await page.goto(`/deliveries/${row!.id}`);
  await page.getByRole('button', { name: 'Process as a new event' }).click();
  const dialog = page.getByRole('dialog', { name: 'Process this duplicate as a new event?' });
  await expect(dialog).toBeVisible();
  await screenshot(page, 'delivery-enqueue-duplicate');
  const queued = page.waitForResponse((r) => r.url().endsWith(`/api/deliveries/${row!.id}/enqueue`));
  await dialog.getByRole('button', { name: 'Queue it' }).click();
  expect((await queued).status()).toBe(202);
  await expect(page.getByRole('button', { name: 'Process as a new event' })).toHaveCount(0);
  const detail = await (await page.request.get(`/api/deliveries/${row!.id}`)).json();
  expect(detail.data.event.delivery_id).toBe(second);
});
