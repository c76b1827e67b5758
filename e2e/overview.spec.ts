import { expect, login, screenshot, test } from './fixtures';

test('overview shows KPIs and charts with live data', async ({ page }) => {
  await login(page);
  await page.goto('/?range=15m');
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await expect(page.getByText('Sandbox mode')).toBeVisible();

  // The sandbox streams deliveries; they reach the rollups within a few seconds and the page polls.
  const ack = page.getByRole('figure', { name: 'Ack latency' });
  await expect(ack.locator('.recharts-line-dot').first()).toBeVisible({ timeout: 45_000 });
  const outcomes = page.getByRole('figure', { name: 'Outcomes' });
  await expect(outcomes.locator('.recharts-bar-rectangle').first()).toBeVisible();
  await expect(
    page.getByRole('figure', { name: 'Delivery lag' }).locator('.recharts-line-dot').first(),
  ).toBeVisible();
  await expect(page.getByRole('region', { name: 'Deliveries / min' })).not.toContainText('—');
  await expect(page.getByRole('region', { name: 'Pattern health' })).toBeVisible();

  // Filters live in the URL.
  await page.getByLabel('Time range').selectOption('1h');
  await expect(page).toHaveURL(/\/$|\/\?event_type/);
  await page.getByLabel('Event type', { exact: true }).selectOption('contact.created');
  await expect(page).toHaveURL(/event_type=contact.created/);
  await page.getByLabel('Event type', { exact: true }).selectOption('');
  await expect(ack.locator('.recharts-line-dot').first()).toBeVisible();
  await screenshot(page, 'overview');

  await page.setViewportSize({ width: 390, height: 800 });
  await expect(ack.locator('.recharts-line-dot').first()).toBeVisible();
  await screenshot(page, 'overview-narrow');
});
