import { randomUUID } from 'node:crypto';
import { expect, login, postDelivery, postSlyDelivery, screenshot, test } from './fixtures';

test('filter the delivery log and open a delivery', async ({ page }) => {
  await login(page);
  await page.goto('/deliveries');
  await expect(page.getByRole('table').getByRole('row').nth(1)).toBeVisible();

  // Several outcomes at once, and the processing state of each delivery's event.
  await page.getByLabel('Outcome: all').click();
  const outcomes = page.getByRole('group', { name: 'Outcome' });
  await outcomes.getByLabel('accepted').check();
  await outcomes.getByLabel('rejected').check();
  await expect(page).toHaveURL(/outcome=accepted(,|%2C)rejected/);
  await expect(page.getByLabel('Outcome: accepted, rejected')).toBeVisible();
  await outcomes.getByLabel('rejected').uncheck();
  await expect(page).toHaveURL(/outcome=accepted(&|$)/);
  await page.getByLabel('Outcome: accepted').click();
  await page.getByLabel('Processing').selectOption('processed');
  await expect(page).toHaveURL(/status=processed/);
  const rows = page.getByRole('table').getByRole('row');
  await expect(rows.nth(1)).toBeVisible();
  await expect(page.getByRole('table').getByText('duplicate', { exact: true })).toHaveCount(0);
  await expect(page.getByRole('table').getByText('pending', { exact: true })).toHaveCount(0);
  await screenshot(page, 'deliveries');

  await rows.nth(1).getByRole('link').click();
  await expect(page).toHaveURL(/\/deliveries\/\d+$/);
  await expect(page.getByRole('list', { name: 'Timeline' })).toContainText('Answered 200');
  await expect(page.getByRole('region', { name: 'Headers' })).toContainText('[redacted]');
});

test('a body with markup is shown as text, never run', async ({ page }) => {
  await login(page);
  const attack = "<img src=x onerror='window.__xss=1'>";
  const deliveryId = await postDelivery(page.request, {
    event: 'contact.created',
    data: {
      contact: { id: 90_000 + Math.floor(Math.random() * 1e6), name: attack, email: 'x@example.test' },
    },
  });

  await page.goto('/deliveries');
  await page.getByLabel('Delivery id').fill(deliveryId);
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(new RegExp(`q=${deliveryId}`));
  await page.getByRole('link', { name: `Open delivery ${deliveryId}` }).click();

  const body = page.getByRole('region', { name: 'Body' });
  await expect(body.locator('pre')).toContainText(attack);
  await expect(page.locator('img[src="x"]')).toHaveCount(0);
  expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
  await expect(page.getByRole('list', { name: 'Timeline' })).toContainText('Processed');
  await screenshot(page, 'delivery-detail');
});

test('a refused request shows what it claimed to be, as text', async ({ page }) => {
  await login(page);
  const claimedId = `claimed-${randomUUID()}`;
  const res = await page.request.post('/api/webhooks/skylightchat', {
    data: '{"event":"contact.created"}',
    headers: {
      'content-type': 'application/json',
      'x-skylight-event': '<b>contact.pwned</b>',
      'x-skylight-delivery': claimedId,
      'x-skylight-signature': 'sha256=00',
    },
  });
  expect(res.status()).toBe(400);

  // Refusals are written off the response path: reload until it is there.
  const row = page.getByRole('row').filter({ hasText: claimedId });
  await expect(async () => {
    await page.goto('/deliveries?outcome=rejected');
    await expect(row).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await expect(row).toContainText(`claimed ${claimedId}`);
  await expect(row).toContainText('claimed <b>contact.pwned</b>');
  await expect(row.locator('b')).toHaveCount(0);
  await expect(page.getByRole('table').getByText('none', { exact: true })).toHaveCount(0);
  await screenshot(page, 'deliveries-rejected');
});

test('filter the delivery log by source', async ({ page }) => {
  await login(page);
  const slyId = await postSlyDelivery(page.request);
  await page.goto('/deliveries');
  const table = page.getByRole('table');
  await expect(table.getByRole('row').nth(1)).toBeVisible();

  await page.getByLabel('Source').selectOption('sly');
  await expect(page).toHaveURL(/source=sly/);
  await expect(table.getByRole('link', { name: `Open delivery ${slyId}` })).toBeVisible();
  // Only Sly rows: the sandbox's SkyLight stream is filtered out.
  await expect(table.getByText('SkyLight Chat', { exact: true })).toHaveCount(0);
  await expect(table.getByText('Sly', { exact: true }).first()).toBeVisible();

  await page.getByRole('link', { name: `Open delivery ${slyId}` }).click();
  await expect(page.getByText('sly · Sly')).toBeVisible();

  await page.goto('/deliveries?source=skylightchat');
  await expect(table.getByText('SkyLight Chat', { exact: true }).first()).toBeVisible();
  await expect(table.getByRole('link', { name: `Open delivery ${slyId}` })).toHaveCount(0);
  await screenshot(page, 'deliveries-by-source');
});
