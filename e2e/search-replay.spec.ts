import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
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

// Issue 17: find deliveries by what their payload says, export what the view shows, and see the dry
// run of a bulk replay before it runs.

test('search deliveries by payload text and JSON path, then export the view', async ({ page }) => {
  await login(page);
  const email = `e2e-${randomUUID().slice(0, 8)}@search.test`;
  const contact = { id: Math.floor(Math.random() * 1e9) + 1, name: 'Search Me', email, type: 'whatsapp' };
  const ids = [
    await postDelivery(page.request, { event: 'contact.updated', data: { contact } }),
    await postDelivery(page.request, {
      event: 'contact.updated',
      data: { contact: { ...contact, name: 'Again' } },
    }),
  ];
  // The search index is filled by a background job every second.
  await expect
    .poll(async () => {
      const r = await page.request.get(`/api/deliveries?text=${encodeURIComponent(email)}`);
      return ((await r.json()) as { data: unknown[] }).data.length;
    })
    .toBe(2);

  await page.goto('/deliveries?range=all');
  await page.getByLabel('Payload contains').fill(email);
  await page.getByRole('button', { name: 'Match payloads' }).click();
  await expect(page).toHaveURL(/text=/);
  const table = page.getByRole('table').first();
  for (const id of ids) await expect(table.getByText(id)).toBeVisible();
  await expect(table.getByRole('row')).toHaveCount(3);

  await page.getByLabel('Payload contains').fill('');
  await page.getByLabel('JSON path').fill('data.contact.name');
  await page.getByLabel('equals').fill('Again');
  await page.getByRole('button', { name: 'Match payloads' }).click();
  await expect(page).toHaveURL(/path=data.contact.name/);
  await expect(table.getByText(ids[1]!)).toBeVisible();
  await expect(table.getByText(ids[0]!)).toHaveCount(0);
  await screenshot(page, 'deliveries-payload-search');

  // The CSV holds the view's rows; its name carries the filters.
  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'CSV' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^deliveries_.*path-data\.contact\.name_value-Again.*\.csv$/);
  const csv = readFileSync((await file.path())!, 'utf8');
  expect(csv.split('\r\n')[0]).toMatch(/^id,received_at,source/);
  expect(csv).toContain(ids[1]!);
});

test('a bulk replay shows its dry run first, then replays', async ({ page }) => {
  await login(page);
  const marker = `dryrun-${randomUUID().slice(0, 8)}`;
  await setDownstreamOutage(page.request, true);
  const ids: string[] = [];
  try {
    for (let i = 0; i < 3; i++) ids.push(await postDelivery(page.request, inboundMessage(`${marker} ${i}`)));
    for (const id of ids)
      await expect.poll(() => eventStatusOf(page.request, id), { timeout: 30_000 }).toBe('dead');
  } finally {
    await setDownstreamOutage(page.request, false);
  }

  await page.goto(`/dlq?text=${marker}`);
  const table = page.getByRole('table', { name: 'Dead letters' });
  for (const id of ids) await expect(table.getByText(id)).toBeVisible();
  await page.getByRole('button', { name: 'Retry all matching…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Retry all matching dead letters?' });
  const preview = dialog.getByRole('region', { name: 'Replay preview' });
  await expect(preview).toContainText('Dry run: 3 match');
  await expect(preview.getByRole('list', { name: 'By event type' })).toContainText('3 message.received');
  await expect(preview).toContainText('0 superseded');
  await screenshot(page, 'dlq-dry-run');
  // The dry run changed nothing.
  for (const id of ids) expect(await eventStatusOf(page.request, id)).toBe('dead');

  await dialog.getByRole('button', { name: 'Retry' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Re-queued 3 dead letters' })).toBeVisible();
  for (const id of ids) {
    await expect.poll(() => eventStatusOf(page.request, id), { timeout: 30_000 }).toBe('processed');
  }
  await screenshot(page, 'dlq-replayed');
});
