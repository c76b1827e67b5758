import { expect, login, postDelivery, screenshot, test } from './fixtures';

// Issue 17, time: a custom absolute range beside the presets (kept in the URL), and every time in UTC
// or the browser's zone by the operator's choice (remembered), with the ISO timestamp on hover.

// A zone far from UTC, so the switch visibly changes the date and the hour.
test.use({ timezoneId: 'Asia/Kolkata' });

const wall = (iso: string, timeZone: string) => {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(new Date(iso))
      .map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
};

async function receiptOf(page: import('@playwright/test').Page, deliveryId: string) {
  await expect
    .poll(async () => (await (await page.request.get(`/api/deliveries?q=${deliveryId}`)).json()).data.length)
    .toBe(1);
  const [row] = (await (await page.request.get(`/api/deliveries?q=${deliveryId}`)).json()).data;
  return row as { id: number; received_at: string };
}

test('times switch between UTC and the browser zone, and the choice survives a reload', async ({ page }) => {
  await login(page);
  const contact = { id: 700_000 + Math.floor(Math.random() * 1e6), email: 'before@example.test' };
  await postDelivery(page.request, { event: 'contact.created', data: { contact } });
  const deliveryId = await postDelivery(page.request, {
    event: 'contact.updated',
    data: { contact: { ...contact, email: 'after@example.test' } },
  });
  const r = await receiptOf(page, deliveryId);

  await page.goto(`/deliveries/${r.id}`);
  const received = page.locator('dt:text-is("Received") + dd time');
  await expect(received).toHaveText(wall(r.received_at, 'UTC'));
  await expect(received).toHaveAttribute('title', new Date(r.received_at).toISOString());

  await page.getByLabel('Times in').selectOption('local');
  await expect(received).toHaveText(wall(r.received_at, 'Asia/Kolkata'));
  expect(wall(r.received_at, 'Asia/Kolkata')).not.toBe(wall(r.received_at, 'UTC'));
  await expect(received).toHaveAttribute('title', new Date(r.received_at).toISOString());

  // The payload diff against the previous delivery about the same contact.
  const diff = page.getByRole('table', { name: 'Changes since the previous delivery' });
  await expect(diff.getByRole('row', { name: /data\.contact\.email/ })).toContainText('"after@example.test"');

  await page.reload();
  await expect(page.getByLabel('Times in')).toHaveValue('local');
  await expect(received).toHaveText(wall(r.received_at, 'Asia/Kolkata'));
  await screenshot(page, 'time-zone-switch');
  // The reconciliation table's times and their header follow the switch too (the header said UTC).
  await page.goto('/reconciliation');
  const header = page.getByRole('columnheader', { name: /First sent/ });
  await expect(header).toBeVisible();
  await expect(header).not.toHaveText('First sent (UTC)');
  await page.goto(`/deliveries/${r.id}`);

  // Back to UTC for the other tests in this browser context.
  await page.getByLabel('Times in').selectOption('utc');
  await expect(received).toHaveText(wall(r.received_at, 'UTC'));
});

test('a custom range filters the delivery log and stays in the URL', async ({ page }) => {
  await login(page);
  const deliveryId = await postDelivery(page.request, {
    event: 'contact.created',
    data: { contact: { id: 800_000 + Math.floor(Math.random() * 1e6), email: 'range@example.test' } },
  });
  const r = await receiptOf(page, deliveryId);
  const at = Date.parse(r.received_at);
  const input = (ms: number) => new Date(ms).toISOString().slice(0, 16);

  await page.goto(`/deliveries?q=${deliveryId}`);
  await expect(page.getByRole('link', { name: `Open delivery ${deliveryId}` })).toBeVisible();
  await page.getByLabel('Time range').selectOption('custom');
  const form = page.getByRole('form', { name: 'Custom range' });

  // Reversed: refused with the API's message, nothing applied.
  await form.getByLabel('From').fill(input(at + 60_000));
  await form.getByLabel('To').fill(input(at - 60_000));
  await form.getByRole('button', { name: 'Apply' }).click();
  await expect(form.getByRole('alert')).toHaveText('`from` must be before `to`');
  await expect(page).not.toHaveURL(/from=/);

  // A window (typed in UTC, the default) around the delivery shows it.
  const from = new Date(Math.floor((at - 5 * 60_000) / 60_000) * 60_000);
  const to = new Date(Math.ceil((at + 5 * 60_000) / 60_000) * 60_000);
  await form.getByLabel('From').fill(input(from.getTime()));
  await form.getByLabel('To').fill(input(to.getTime()));
  await form.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(new RegExp(`from=${from.toISOString().replaceAll('.', '\\.')}`));
  await expect(page).toHaveURL(new RegExp(`to=${to.toISOString().replaceAll('.', '\\.')}`));
  await expect(page.getByRole('link', { name: `Open delivery ${deliveryId}` })).toBeVisible();
  await screenshot(page, 'time-custom-range');

  // The URL carries it: a reload keeps the custom range, and one an hour earlier excludes the delivery.
  await page.reload();
  await expect(page.getByLabel('Time range')).toHaveValue('custom');
  await expect(page.getByRole('link', { name: `Open delivery ${deliveryId}` })).toBeVisible();
  const earlier = (ms: number) => new Date(ms - 3_600_000).toISOString();
  await page.goto(`/deliveries?q=${deliveryId}&from=${earlier(from.getTime())}&to=${earlier(to.getTime())}`);
  await expect(page.getByText('No deliveries match')).toBeVisible();

  // The API answers a reversed range with a 400 that names it.
  const bad = await page.request.get(`/api/deliveries?from=${to.toISOString()}&to=${from.toISOString()}`);
  expect(bad.status()).toBe(400);
  expect((await bad.json()).error.issues[0].message).toBe('`from` must be before `to`');

  // The overview takes the same range: its charts read that window.
  const summary = page.waitForRequest((req) => {
    const u = new URL(req.url());
    return u.pathname === '/api/metrics/summary' && u.searchParams.get('from') === from.toISOString();
  });
  await page.goto(`/?from=${from.toISOString()}&to=${to.toISOString()}`);
  await summary;
  await expect(page.getByLabel('Time range')).toHaveValue('custom');
  await expect(page.getByRole('heading', { name: 'Payload changes' })).toBeVisible();
});

test('a browser clock 2 h fast: the last hour is the server’s last hour, from the first fetch on', async ({
  page,
}) => {
  await login(page);
  const deliveryId = await postDelivery(page.request, {
    event: 'contact.created',
    data: { contact: { id: 900_000 + Math.floor(Math.random() * 1e6), email: 'skew@example.test' } },
  });
  await receiptOf(page, deliveryId);
  await page.clock.install({ time: Date.now() + 2 * 3_600_000 });

  const firstList = page.waitForRequest((req) => new URL(req.url()).pathname === '/api/deliveries');
  await page.goto(`/deliveries?range=1h&q=${deliveryId}`);
  const asked = new URL((await firstList).url()).searchParams;
  // This runner shares the server's clock; the page's is 2 h ahead.
  expect(Math.abs(Date.parse(asked.get('to')!) - Date.now())).toBeLessThan(60_000);
  expect(Date.parse(asked.get('to')!) - Date.parse(asked.get('from')!)).toBe(3_600_000);
  await expect(page.getByRole('link', { name: `Open delivery ${deliveryId}` })).toBeVisible();

  // The overview's preset too, on the first summary request.
  const summary = page.waitForRequest((req) => new URL(req.url()).pathname === '/api/metrics/summary');
  await page.goto('/?range=1h');
  const to = Date.parse(new URL((await summary).url()).searchParams.get('to')!);
  expect(Math.abs(to - Date.now())).toBeLessThan(60_000);
});
