import { expect, login, test } from './fixtures';

// Two filter changes made back to back, before the first has reached the URL, must both stick: in the
// URL, in the selects, and after a reload. The hand-written URL state dropped the first change.
const PAGES = [
  {
    path: '/',
    ready: 'Deliveries / min',
    first: ['Time range', '6h'],
    second: ['Event type', 'contact.created'],
  },
  {
    path: '/deliveries',
    ready: 'Deliveries',
    first: ['Time range', '7d'],
    second: ['Event type', 'message.received'],
  },
] as const;

for (const p of PAGES) {
  test(`two quick filter changes both stick on ${p.path}`, async ({ page }) => {
    await login(page);
    await page.goto(p.path);
    await expect(
      page
        .getByRole('heading', { name: p.ready })
        .or(page.getByRole('region', { name: p.ready }))
        .first(),
    ).toBeVisible();
    const first = page.getByLabel(p.first[0], { exact: true });
    const second = page.getByLabel(p.second[0], { exact: true });
    await first.selectOption(p.first[1]);
    await second.selectOption(p.second[1]);

    await expect(first).toHaveValue(p.first[1]);
    await expect(second).toHaveValue(p.second[1]);
    const range = `range=${p.first[1]}`;
    const type = `event_type=${p.second[1]}`;
    await expect(page).toHaveURL((u) => u.search.includes(range) && u.search.includes(type));

    await page.reload();
    await expect(page.getByLabel(p.first[0], { exact: true })).toHaveValue(p.first[1]);
    await expect(page.getByLabel(p.second[0], { exact: true })).toHaveValue(p.second[1]);
  });
}

test('the navigation link back to an unfiltered list empties the search box too', async ({ page }) => {
  await login(page);
  await page.goto('/deliveries');
  const box = page.getByLabel('Delivery id', { exact: true });
  await box.fill('foo');
  await box.press('Enter');
  await expect(page).toHaveURL(/q=foo/);
  // The page stays mounted: the link changes only the query.
  await page.getByRole('navigation').getByRole('link', { name: 'Deliveries', exact: true }).click();
  await expect(page).toHaveURL((u) => u.pathname === '/deliveries' && !u.search.includes('q='));
  await expect(box).toHaveValue('');
});
