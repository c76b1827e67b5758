import { API_TOKEN, BASE_URL, PASSWORD } from './env';
import { expect, login, screenshot, test } from './fixtures';

test('login refuses a wrong password, then lets the right one in', async ({ page }) => {
  await page.goto('/deliveries');
  await expect(page).toHaveURL(/\/login\?next=%2Fdeliveries/);
  await screenshot(page, 'login');

  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Wrong password' })).toBeVisible();
  await expect(page).toHaveURL(/\/login/);

  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/deliveries$/);
  await expect(page.getByRole('heading', { name: 'Deliveries' })).toBeVisible();

  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto('/');
  await expect(page).toHaveURL(/\/login/);
});

test('API calls without a session or token get 401', async ({ playwright }) => {
  const anon = await playwright.request.newContext({ baseURL: BASE_URL });
  for (const path of [
    '/api/deliveries',
    '/api/dlq',
    '/api/metrics/summary',
    '/api/audit',
    '/api/provider/webhooks',
  ]) {
    const res = await anon.get(path);
    expect(res.status(), path).toBe(401);
    expect((await res.json()).error.code).toBe('unauthorized');
  }
  expect((await anon.post('/api/dlq/retry', { data: {} })).status()).toBe(401);
  expect(
    (await anon.get('/api/deliveries', { headers: { Authorization: 'Bearer wrong-token' } })).status(),
  ).toBe(401);

  const res = await anon.get('/api/deliveries?limit=1', {
    headers: { Authorization: `Bearer ${API_TOKEN}` },
  });
  expect(res.status()).toBe(200);
  await anon.dispose();
});

test('a cross-origin mutation with the session cookie gets 403', async ({ page }) => {
  await login(page);
  const foreign = await page.request.post('/api/dlq/retry', {
    data: { event_type: 'contact.created' },
    headers: { Origin: 'https://evil.example' },
  });
  expect(foreign.status()).toBe(403);
  expect((await foreign.json()).error.code).toBe('forbidden');
  const noOrigin = await page.request.post('/api/dlq/retry', { data: {} });
  expect(noOrigin.status()).toBe(403);
  // Reads with the cookie need no Origin.
  expect((await page.request.get('/api/dlq?limit=1')).status()).toBe(200);
});

test('bad query parameters are 400s with a message, never 500s', async ({ page }) => {
  await login(page);
  for (const q of [
    'limit=-1',
    'limit=100000',
    'cursor=not-a-cursor',
    'outcome=exploded',
    'unknown=1',
    `q=${'x'.repeat(300)}`,
    'from=yesterday',
  ]) {
    const res = await page.request.get(`/api/deliveries?${q}`);
    expect(res.status(), q).toBe(400);
    expect((await res.json()).error.message, q).toMatch(/Invalid/);
  }
  expect((await page.request.get('/api/deliveries/abc')).status()).toBe(400);
  expect(
    (
      await page.request.get('/api/metrics/ack-latency?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z')
    ).status(),
  ).toBe(400);
});

test('login is rate-limited after 5 failures from one address', async ({ playwright }) => {
  const anon = await playwright.request.newContext({ baseURL: BASE_URL });
  // A documentation address of its own, so the other tests' logins are not locked out.
  const headers = { Origin: BASE_URL, 'X-Forwarded-For': '203.0.113.77' };
  for (let i = 0; i < 5; i++) {
    const res = await anon.post('/api/auth/login', { data: { password: `wrong-${i}` }, headers });
    expect(res.status()).toBe(401);
  }
  const blocked = await anon.post('/api/auth/login', { data: { password: PASSWORD }, headers });
  expect(blocked.status()).toBe(429);
  expect(Number(blocked.headers()['retry-after'])).toBeGreaterThan(0);
  await anon.dispose();
});
