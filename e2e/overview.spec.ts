import { expect, login, postDelivery, postSlyDelivery, screenshot, test } from './fixtures';

test('overview shows KPIs and charts with live data', async ({ page }) => {
  await login(page);
  await page.goto('/?range=15m');
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await expect(page.getByText('Sandbox mode')).toBeVisible();

  // The sandbox streams deliveries; they reach the rollups within a few seconds and the page polls.
  const ack = page.getByRole('figure', { name: 'Ack latency' });
  await expect(ack.locator('.recharts-line-dot').first()).toBeVisible({ timeout: 45_000 });
  const outcomes = page.getByRole('figure', { name: 'Outcomes' });
  await expect(outcomes.locator('.recharts-bar-rectangle path').first()).toBeVisible();
  // The range ends now: its last minute is still filling, said in the caption and drawn lighter.
  await expect(outcomes).toContainText('the last bar (lighter) is still filling');
  await expect(outcomes.locator('.recharts-bar-rectangle path[fill-opacity="0.4"]').first()).toBeAttached();
  // A range that ended has no filling bucket.
  const ended = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();
  const earlier = new Date(Date.parse(ended) - 15 * 60_000).toISOString();
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/metrics/outcomes');
  await page.goto(`/?from=${earlier}&to=${ended}`);
  expect((await answered).ok()).toBe(true);
  // Drawn from the answer (bars, or the empty state for a quiet quarter hour), then read.
  await expect(
    outcomes.locator('.recharts-bar-rectangle path').or(outcomes.getByText('No data in this range')).first(),
  ).toBeVisible();
  await expect(outcomes).not.toContainText('still filling');
  // A range that ends inside a bucket (a second ago, inside the minute with data): its last bar is
  // partial too.
  const cut = new Date(Date.now() - 1000).toISOString();
  await page.goto(`/?from=${earlier}&to=${cut}`);
  await expect(outcomes.locator('.recharts-bar-rectangle path').first()).toBeVisible();
  await expect(outcomes).toContainText(
    'the last bar (lighter) covers part of its bucket (the range ends there)',
  );
  await page.goto('/?range=15m');
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

test('cards follow the event type, one absurd lag cannot flatten the chart, axes name UTC and dates', async ({
  page,
}) => {
  await login(page);
  // Five deliveries stamped 20 minutes ago (a provider retry, a skewed clock) among the live stream.
  for (let i = 0; i < 5; i++) {
    await postDelivery(page.request, {
      event: 'contact.updated',
      data: { contact: { id: 700_000 + i, name: 'Late' } },
      timestamp: new Date(Date.now() - 20 * 60_000),
    });
  }
  await page.goto('/?range=15m');
  const lag = page.getByRole('figure', { name: 'Delivery lag' });
  await expect(lag).toContainText('times in UTC');
  await expect(lag.getByRole('note')).toContainText(/values? above .* drawn at the top edge/, {
    timeout: 45_000,
  });
  // The axis tops out near the usual values: no tick in minutes, hours or days.
  const ticks = await lag.locator('svg text').allTextContents();
  expect(ticks.some((t) => /\d ms$/.test(t))).toBe(true);
  expect(ticks.filter((t) => /\d (min|h|d)$/.test(t))).toEqual([]);
  await screenshot(page, 'overview-lag-outlier');

  // Every card is of the selected type: DLQ size and queue depth agree with the type's own numbers.
  for (const type of ['booking.created', 'contact.created']) {
    await page.getByLabel('Event type', { exact: true }).selectOption(type);
    const dlq = page.getByRole('region', { name: 'DLQ size' });
    await expect(dlq).toContainText(`dead letters now, any age · ${type}`);
    await expect(async () => {
      const n = (await (await page.request.get(`/api/dlq/count?event_type=${type}`)).json()).data.matched;
      await expect(dlq.locator('.kpi-value')).toHaveText(String(n), { timeout: 1_000 });
    }).toPass({ timeout: 30_000 });
    await expect(page.getByRole('region', { name: 'Queue depth' })).toContainText(type);
    await expect(page.getByRole('region', { name: 'Handler p95' })).toContainText(type);
  }

  // A range of a day or more crosses midnight: its axis shows dates.
  await page.getByLabel('Time range').selectOption('24h');
  const ack = page.getByRole('figure', { name: 'Ack latency' });
  await expect(async () => {
    const ticks = await ack.locator('svg text').allTextContents();
    expect(ticks.filter((t) => /^[A-Z][a-z]{2} \d{1,2} \d\d:\d\d$/.test(t)).length).toBeGreaterThan(0);
  }).toPass({ timeout: 20_000 });
});

test('the overview narrows to one source: cards and charts count only its deliveries', async ({ page }) => {
  await login(page);
  for (let i = 0; i < 3; i++) await postSlyDelivery(page.request);
  await page.goto('/?range=15m');
  const drift = page.waitForRequest(
    (r) =>
      new URL(r.url()).pathname === '/api/payload-drift' &&
      new URL(r.url()).searchParams.get('source') === 'sly',
  );
  await page.getByLabel('Source').selectOption('sly');
  await expect(page).toHaveURL(/source=sly/);
  // The payload changes panel follows the source too.
  await drift;
  // Per-type charts list only Sly's event types once the rollups (written every second) have them.
  const retry = page.getByRole('figure', { name: 'Retry, duplicate and stale rate by event type' });
  await expect(retry.locator('svg text', { hasText: 'transfer.completed' }).first()).toBeVisible({
    timeout: 30_000,
  });
  await expect(retry.locator('svg text', { hasText: 'contact.created' })).toHaveCount(0);
  // The API agrees: the source's totals are part of, and smaller than, all sources'.
  const summary = async (q: string) =>
    ((await (await page.request.get(`/api/metrics/summary?${q}`)).json()) as { data: { total: number } }).data
      .total;
  const from = new Date(Date.now() - 15 * 60_000).toISOString();
  const sly = await summary(`source=sly&from=${from}`);
  expect(sly).toBeGreaterThanOrEqual(3);
  expect(await summary(`from=${from}`)).toBeGreaterThan(sly);
  await screenshot(page, 'overview-by-source');
});
