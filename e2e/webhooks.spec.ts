import type { APIRequestContext } from '@playwright/test';
import { expect, login, screenshot, test } from './fixtures';

const WEBHOOK = 'Local app (sandbox)';

async function newestReceiptId(request: APIRequestContext): Promise<number> {
  const res = await request.get('/api/deliveries?limit=1');
  return ((await res.json()).data[0]?.id as number | undefined) ?? 0;
}

/** Resolves once no new receipt has arrived for `quietMs` (polling, not sleeping). */
async function expectQuiet(request: APIRequestContext, quietMs: number) {
  let last = -1;
  let since = Date.now();
  await expect
    .poll(
      async () => {
        const id = await newestReceiptId(request);
        if (id !== last) {
          last = id;
          since = Date.now();
        }
        return Date.now() - since;
      },
      { timeout: 45_000, intervals: [500] },
    )
    .toBeGreaterThanOrEqual(quietMs);
  return last;
}

test('disable a webhook, deliveries stop; enable it, they resume', async ({ page }) => {
  await login(page);
  await page.goto('/webhooks');
  const toggle = page.getByRole('switch', { name: `Active: ${WEBHOOK}` });
  await expect(toggle).toHaveAttribute('aria-checked', 'true');

  await toggle.click();
  const dialog = page.getByRole('dialog', { name: `Disable ${WEBHOOK}?` });
  await expect(dialog).toContainText('does not queue events for a disabled webhook');
  await dialog.getByRole('button', { name: 'Disable' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'is now disabled' })).toBeVisible();
  await expect(toggle).toHaveAttribute('aria-checked', 'false');

  const lastId = await expectQuiet(page.request, 4000);

  await toggle.click();
  await page
    .getByRole('dialog', { name: `Enable ${WEBHOOK}?` })
    .getByRole('button', { name: 'Enable' })
    .click();
  await expect(page.getByRole('status').filter({ hasText: 'is now enabled' })).toBeVisible();
  await expect(toggle).toHaveAttribute('aria-checked', 'true');
  await expect.poll(() => newestReceiptId(page.request), { timeout: 30_000 }).toBeGreaterThan(lastId);

  // SkyLight's own delivery log for the webhook, filterable by status.
  await page.getByRole('button', { name: `Delivery log of ${WEBHOOK}` }).click();
  const log = page.getByRole('region', { name: 'Provider delivery log' });
  await expect(log.getByRole('table')).toBeVisible();
  await log.getByLabel('Status').selectOption('delivered');
  await expect(page).toHaveURL(/status=delivered/);
  await expect(log.getByRole('table')).toContainText('delivered');
  await screenshot(page, 'webhooks');

  await page.goto('/audit');
  await expect(
    page.getByRole('table', { name: 'Audit log' }).getByText('webhook_toggle').first(),
  ).toBeVisible();
});

test('the webhooks page fits a 390 px phone, and a skip link leads past the navigation', async ({ page }) => {
  await login(page);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('/webhooks');
  const toggle = page.getByRole('switch', { name: `Active: ${WEBHOOK}` });
  // The sources and their secrets come first on the page: the provider's webhooks are further down.
  await toggle.scrollIntoViewIfNeeded();
  await expect(toggle).toBeInViewport();
  const box = await toggle.boundingBox();
  expect(box!.x + box!.width).toBeLessThanOrEqual(390);
  await page.getByRole('button', { name: `Delivery log of ${WEBHOOK}` }).click();
  await expect(page.getByRole('region', { name: 'Provider delivery log' }).getByRole('table')).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await screenshot(page, 'webhooks-390');

  // The first Tab lands on the skip link; following it puts the focus on the page's content.
  await page.goto('/webhooks');
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  await page.keyboard.press('Enter');
  await expect(page.locator('main#main')).toBeFocused();
});

test('add a source on the Webhooks page: listed with its endpoint, its secret never shown', async ({
  page,
}) => {
  await login(page);
  await page.goto('/webhooks');
  const sources = page.getByRole('table', { name: 'Sources' });
  await expect(sources).toContainText('skylightchat');
  await expect(sources).toContainText('sly');

  const slug = `pay-${Date.now().toString(36)}`;
  const secret = 'whsec_e2e_new_source_secret_7f3a';
  const form = page.getByRole('form', { name: 'New source' });
  await form.getByLabel('Slug').fill(slug);
  await form.getByLabel('Provider').selectOption('sly');
  await form.getByLabel('Signing secret').fill(secret);
  await form.getByRole('button', { name: 'Add source' }).click();
  await expect(page.getByRole('status').filter({ hasText: `Source ${slug} added` })).toBeVisible();
  const row = sources.getByRole('row').filter({ hasText: slug });
  await expect(row).toContainText(`POST /api/webhooks/${slug}`);
  await expect(row).toContainText('…7f3a');
  await expect(page.locator('body')).not.toContainText(secret);
  await expect(form.getByLabel('Signing secret')).toHaveValue('');

  await row.getByRole('switch', { name: `Enabled: ${slug}` }).click();
  await page
    .getByRole('dialog', { name: `Disable source ${slug}?` })
    .getByRole('button', { name: 'Disable' })
    .click();
  await expect(row.getByRole('switch', { name: `Enabled: ${slug}` })).toHaveAttribute(
    'aria-checked',
    'false',
  );
  const res = await page.request.post(`/api/webhooks/${slug}`, {
    data: '{}',
    headers: { 'content-type': 'application/json' },
  });
  expect(res.status()).toBe(410);
});
