import {
  eventStatusOf,
  expect,
  inboundMessage,
  login,
  postDelivery,
  screenshot,
  setDownstreamOutage,
  test,
} from './fixtures';

test('events fail until dead, then retry one, discard one and bulk-retry the rest', async ({ page }) => {
  await login(page);
  await setDownstreamOutage(page.request, true);
  const ids: string[] = [];
  try {
    for (let i = 0; i < 4; i++) ids.push(await postDelivery(page.request, inboundMessage(`e2e outage ${i}`)));
    for (const id of ids) {
      await expect.poll(() => eventStatusOf(page.request, id), { timeout: 30_000 }).toBe('dead');
    }
  } finally {
    await setDownstreamOutage(page.request, false);
  }

  await page.goto('/dlq?event_type=message.received&error=answered+503');
  const table = page.getByRole('table', { name: 'Dead letters' });
  for (const id of ids) await expect(table.getByText(id)).toBeVisible();
  await screenshot(page, 'dlq');

  // Retry one from its detail panel.
  await page.getByRole('button', { name: `Open dead letter ${ids[0]}` }).click();
  const detail = page.getByRole('region', { name: 'Dead letter detail' });
  await expect(detail.getByRole('table', { name: 'Attempts' }).getByRole('row')).toHaveCount(3);
  await expect(detail.getByRole('region', { name: 'Payload' })).toContainText('e2e outage 0');
  await screenshot(page, 'dlq-detail');
  await detail.getByRole('button', { name: 'Retry this event' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Re-queued event' })).toBeVisible();
  await expect(table.getByText(ids[0]!)).toHaveCount(0);
  await expect.poll(() => eventStatusOf(page.request, ids[0]!)).toBe('processed');

  // Discard one.
  await page.getByRole('button', { name: `Open dead letter ${ids[1]}` }).click();
  await detail.getByRole('button', { name: 'Discard' }).click();
  await page
    .getByRole('dialog', { name: /Discard event/ })
    .getByRole('button', { name: 'Discard' })
    .click();
  await expect(page.getByRole('status').filter({ hasText: 'Discarded event' })).toBeVisible();
  await expect.poll(() => eventStatusOf(page.request, ids[1]!)).toBe('discarded');

  // Bulk-retry everything matching the filter (all pages), with the count confirmed first.
  await page.getByRole('button', { name: 'Retry all matching…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Retry all matching dead letters?' });
  await expect(dialog).toContainText(/\d+ dead letters? match the current filters/);
  await dialog.getByRole('button', { name: 'Retry' }).click();
  await expect(page.getByRole('status').filter({ hasText: /Re-queued \d+ dead letter/ })).toBeVisible();
  for (const id of ids.slice(2)) {
    await expect.poll(() => eventStatusOf(page.request, id), { timeout: 30_000 }).toBe('processed');
  }
  await expect(table.getByText(ids[2]!)).toHaveCount(0);

  await page.goto('/audit');
  const audit = page.getByRole('table', { name: 'Audit log' });
  for (const action of ['login', 'dlq_retry', 'dlq_discard', 'dlq_bulk_retry']) {
    await expect(audit.getByText(action, { exact: true }).first()).toBeVisible();
  }
  await screenshot(page, 'audit');
});
