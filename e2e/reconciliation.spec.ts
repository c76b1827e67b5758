import type { APIRequestContext } from '@playwright/test';
import { BASE_URL } from './env';
import { expect, login, screenshot, test } from './fixtures';

type Row = { delivery_id: string; class: string; exhausted: boolean; our_http_status: number | null };

const origin = { Origin: BASE_URL };

/** Starts a run (202), or finds one already running (409): either way a run will cover what is planted. */
async function runNow(request: APIRequestContext) {
  const res = await request.post('/api/reconciliation/run', { data: {}, headers: origin });
  expect([202, 409]).toContain(res.status());
}

async function reconciled(request: APIRequestContext, cls?: string): Promise<Row[]> {
  const res = await request.get(`/api/reconciliation?limit=200${cls ? `&class=${cls}` : ''}`);
  expect(res.status()).toBe(200);
  return (await res.json()).data as Row[];
}

async function findRow(request: APIRequestContext, deliveryId: string): Promise<Row | undefined> {
  let cursor: string | undefined;
  for (let page = 0; page < 50; page++) {
    const res = await request.get(`/api/reconciliation?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status()).toBe(200);
    const body = (await res.json()) as { data: Row[]; next_cursor?: string | null };
    const row = body.data.find((r) => r.delivery_id === deliveryId);
    if (row || !body.next_cursor) return row;
    cursor = body.next_cursor;
  }
  return undefined;
}

test('planted losses are classified on the Reconciliation page and exported for a backfill', async ({
  page,
}) => {
  await login(page);
  // The sandbox refuses (wrong secret) or drops these until it gives up; at this time scale that
  // takes seconds. One more is refused once, then its retry lands.
  const planted = await page.request.post('/api/sandbox/losses', { data: {}, headers: origin });
  expect(planted.status()).toBe(202);
  const { rejected, dropped, recovered } = (await planted.json()).data as Record<string, string[]>;
  expect(rejected).toHaveLength(2);
  expect(dropped).toHaveLength(2);

  await expect
    .poll(
      async () => {
        await runNow(page.request);
        const lost = new Set((await reconciled(page.request, 'provider_failed')).map((r) => r.delivery_id));
        return [...rejected!, ...dropped!].filter((id) => lost.has(id)).length;
      },
      { timeout: 60_000, intervals: [2000] },
    )
    .toBe(4);
  const lost = await reconciled(page.request, 'provider_failed');
  for (const id of rejected!)
    expect(lost.find((r) => r.delivery_id === id)).toMatchObject({ exhausted: true, our_http_status: 400 });
  for (const id of dropped!)
    expect(lost.find((r) => r.delivery_id === id)).toMatchObject({ exhausted: true, our_http_status: null });
  // The demo keeps sending meanwhile: look for the recovered one through every page, not the first.
  expect((await findRow(page.request, recovered![0]!))?.class).toBe('matched');

  await page.goto('/reconciliation');
  await expect(page.getByRole('heading', { name: 'Reconciliation' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Lost (provider gave up)' })).toBeVisible();
  const table = page.getByRole('table', { name: 'Reconciled deliveries' });
  await expect(table.locator('tr[data-class="matched"]').first()).toBeVisible();
  await screenshot(page, 'reconciliation');
  await page.getByLabel('Class').selectOption('provider_failed');
  await expect(page).toHaveURL(/class=provider_failed/);
  const lostRow = table.locator('tr', { hasText: rejected![0]! });
  await expect(lostRow).toContainText('provider_failed');
  await expect(lostRow).toContainText('Lost: the provider gave up after 4 attempts');
  await expect(lostRow.getByTestId('time-left')).toHaveText('lost');
  await expect(page.getByTestId('last-run')).toContainText('Last run');
  await screenshot(page, 'reconciliation-lost');

  // The CSV for a manual backfill: every lost event with its type, times and ids.
  const csv = await page.request.get('/api/reconciliation/export?format=csv&class=provider_failed');
  expect(csv.status()).toBe(200);
  expect(csv.headers()['content-type']).toContain('text/csv');
  const text = await csv.text();
  expect(text.split('\r\n')[0]).toContain('delivery_id,event_type,class');
  for (const id of [...rejected!, ...dropped!]) expect(text).toContain(id);
});

test('a page left open on "last hour" shows losses found after it was opened', async ({ page }) => {
  await login(page);
  await page.goto('/reconciliation?range=1h&class=provider_failed');
  const table = page
    .getByRole('table', { name: 'Reconciled deliveries' })
    .or(page.getByText('No deliveries'));
  await expect(table.first()).toBeVisible();
  const planted = await page.request.post('/api/sandbox/losses', { data: {}, headers: origin });
  expect(planted.status()).toBe(202);
  const { rejected } = (await planted.json()).data as Record<string, string[]>;
  await expect
    .poll(
      async () => {
        await runNow(page.request);
        return (await reconciled(page.request, 'provider_failed')).some(
          (r) => r.delivery_id === rejected![0],
        );
      },
      { timeout: 60_000, intervals: [2000] },
    )
    .toBe(true);
  // No reload: the page's own refresh asks for the hour ending now, not the one before it opened.
  await expect(
    page.getByRole('table', { name: 'Reconciled deliveries' }).locator('tr', { hasText: rejected![0]! }),
  ).toBeVisible({
    timeout: 30_000,
  });
});
