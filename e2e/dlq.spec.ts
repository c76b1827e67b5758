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
  // A downstream 503 is transient: a retry may work once the downstream is back.
  await expect(
    table.getByRole('row').filter({ hasText: ids[0]! }).getByText('transient', { exact: true }),
  ).toBeVisible();
  await screenshot(page, 'dlq');

  // Searchable by delivery id.
  await page.getByLabel('Delivery id').fill(ids[3]!);
  await page.getByRole('button', { name: 'Find' }).click();
  await expect(page).toHaveURL(new RegExp(`q=${ids[3]}`));
  await expect(table.getByRole('row')).toHaveCount(2);
  await page.getByLabel('Delivery id').fill('');
  await page.getByRole('button', { name: 'Find' }).click();
  await expect(table.getByText(ids[3]!)).toBeVisible();
  await expect(table.getByText(ids[0]!)).toBeVisible();

  // The detail opens in view and takes the focus; Retry is one Tab away; Escape gives the focus back.
  const opener = page.getByRole('button', { name: `Open dead letter ${ids[0]}` });
  await opener.click();
  const detail = page.getByRole('dialog', { name: /^Dead letter · event #\d+$/ });
  await expect(detail).toBeInViewport();
  await expect(page).toHaveURL(/selected=\d+/);
  await expect(detail.getByRole('region', { name: 'Payload' })).toContainText('e2e outage 0');
  const history = detail.getByRole('list', { name: 'History' }).getByRole('listitem');
  await expect(history).toHaveText([/^Attempt 1: transient/, /^Attempt 2: transient/, /^Dead-lettered/]);
  expect(await page.evaluate(() => document.activeElement?.closest('dialog') !== null)).toBe(true);
  await page.keyboard.press('Tab');
  await expect(detail.getByRole('button', { name: 'Retry this event' })).toBeFocused();
  await screenshot(page, 'dlq-detail');
  await page.keyboard.press('Escape');
  await expect(detail).toHaveCount(0);
  await expect(opener).toBeFocused();
  await expect(page).not.toHaveURL(/selected=/);

  // Checked rows belong to the list they were checked in: a new filter clears them.
  await table.getByRole('checkbox', { name: `Select dead letter ${ids[3]}` }).check();
  await expect(page.getByRole('button', { name: 'Retry selected (1)' })).toBeVisible();
  await page.getByLabel('Failure').selectOption('transient');
  await expect(page.getByRole('button', { name: 'Retry selected (0)' })).toBeDisabled();
  await page.getByLabel('Failure').selectOption('');

  // A retry the API refuses: its error shows in the open panel (the page behind a modal is inert).
  await page.route(
    '**/api/dlq/*/retry',
    (route) =>
      route.fulfill({
        status: 409,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'conflict', message: 'Refused for the test' } }),
      }),
    { times: 1 },
  );
  await opener.click();
  await detail.getByRole('button', { name: 'Retry this event' }).click();
  await expect(detail.getByRole('alert')).toContainText('Refused for the test');

  // Retry one from its panel.
  await detail.getByRole('button', { name: 'Retry this event' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Re-queued event' })).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'Re-queued event' })).toBeFocused();
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

  // A delivery's "dead" badge leads to its dead letter.
  await page.goto(`/deliveries?q=${ids[2]}`);
  await page.getByRole('link', { name: `Dead letter of ${ids[2]}` }).click();
  await expect(page).toHaveURL(new RegExp(`/dlq\\?q=${ids[2]}&selected=\\d+`));
  await expect(detail.getByText(ids[2]!, { exact: true })).toBeVisible();
  await page.keyboard.press('Escape');

  // Bulk-retry everything matching the filter (all pages), with the count and its classes confirmed.
  await page.goto('/dlq?event_type=message.received&error=answered+503');
  await page.getByRole('button', { name: 'Retry all matching…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Retry all matching dead letters?' });
  await expect(dialog).toContainText(/\d+ dead letters? match the current filters/);
  await expect(dialog.getByRole('list', { name: 'By failure' })).toContainText(/[1-9]\d* transient/);
  await expect(dialog.getByRole('list', { name: 'By failure' })).toContainText('0 permanent');
  await screenshot(page, 'dlq-bulk-retry');
  await dialog.getByRole('button', { name: 'Retry' }).click();
  await expect(page.getByRole('status').filter({ hasText: /Re-queued \d+ dead letter/ })).toBeVisible();
  for (const id of ids.slice(2)) {
    await expect.poll(() => eventStatusOf(page.request, id), { timeout: 30_000 }).toBe('processed');
  }
  await expect(table.getByText(ids[2]!)).toHaveCount(0);

  // The history of a retried event reads in order, numbered across the retry, naming who retried it.
  await page.goto(`/deliveries?q=${ids[0]}&outcome=accepted`);
  await page.getByRole('link', { name: `Open delivery ${ids[0]}` }).click();
  const timeline = page.getByRole('list', { name: 'Timeline' }).getByRole('listitem');
  await expect(timeline).toHaveText([
    /^Received/,
    /^Answered 200/,
    /^Attempt 1: transient/,
    /^Attempt 2: transient/,
    /^Dead-lettered.*transient errors, 2 attempts used/,
    /^Retried by hand by admin@localhost/,
    /^Attempt 3: success/,
    /^Processed/,
  ]);
  await screenshot(page, 'delivery-history');

  await page.goto('/audit');
  const audit = page.getByRole('table', { name: 'Audit log' });
  for (const action of ['login', 'dlq_retry', 'dlq_discard', 'dlq_bulk_retry']) {
    await expect(audit.getByText(action, { exact: true }).first()).toBeVisible();
  }
  await screenshot(page, 'audit');
});
