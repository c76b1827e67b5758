import { ADMIN_EMAIL, API_TOKEN, BASE_URL, PASSWORD } from './env';
import { expect, login, screenshot, test } from './fixtures';

test('login refuses a wrong password, then lets the right one in', async ({ page }) => {
  await page.goto('/deliveries');
  await expect(page).toHaveURL(/\/login\?next=%2Fdeliveries/);
  await screenshot(page, 'login');

  await page.getByLabel('Email').fill(ADMIN_EMAIL);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Wrong email or password' })).toBeVisible();
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

test('login limits: per client address, X-Forwarded-For forgery changes nothing, no lockout of others', async ({
  playwright,
}) => {
  const anon = await playwright.request.newContext({ baseURL: BASE_URL });
  // TRUST_PROXY=1 (playwright.config.ts): the last hop is what "our proxy" saw; the rest is forged.
  const from = (client: string, forged = '') => ({
    Origin: BASE_URL,
    'X-Forwarded-For': forged ? `${forged}, ${client}` : client,
    'X-Real-IP': forged || '198.51.100.1',
    'X-Skylight-Peer': forged || '198.51.100.2',
  });
  const attempt = (headers: Record<string, string>, password: string) =>
    anon.post('/api/auth/login', { data: { email: ADMIN_EMAIL, password }, headers });
  try {
    for (let i = 0; i < 5; i++) {
      // A new forged address every time: the limiter must still see one client.
      const res = await attempt(from('203.0.113.77', `10.66.0.${i}`), `wrong-${i}`);
      expect(res.status()).toBe(401);
    }
    const blocked = await attempt(from('203.0.113.77', '10.66.0.99'), PASSWORD);
    expect(blocked.status()).toBe(429);
    expect(Number(blocked.headers()['retry-after'])).toBeGreaterThan(0);
    expect((await blocked.json()).error.code).toBe('rate_limited');
    // Another client logs in to the same account: one attacker locks out neither it nor the account.
    expect((await attempt(from('203.0.113.78'), PASSWORD)).status()).toBe(200);

    // The audit names the address the proxy saw, never the forged ones.
    const audit = await anon.get('/api/audit?action=login_failed&limit=10', {
      headers: { Authorization: `Bearer ${API_TOKEN}` },
    });
    const rows = (await audit.json()).data as Array<{ ip: string; result: string; code: string | null }>;
    const ours = rows.filter((r) => r.ip === '203.0.113.77');
    expect(ours.length).toBeGreaterThanOrEqual(6);
    expect(ours.some((r) => r.result === 'refused' && r.code === 'rate_limited')).toBe(true);
    expect(rows.some((r) => r.ip.startsWith('10.66.') || r.ip.startsWith('198.51.100.'))).toBe(false);
  } finally {
    await anon.dispose();
  }
});

test('the login return-to path never leaves the site, and odd values never answer 500', async ({ page }) => {
  await login(page);
  for (const next of [
    '/\t/evil.test',
    '/\n/evil.test',
    '//evil.test',
    '/\\evil.test',
    '/.//evil.test',
    'https://evil.test/',
    'javascript:alert(1)',
    '/%0A/evil.test',
    '/ünïcødé',
    '/日本語',
  ]) {
    const res = await page.request.get(`/login?next=${encodeURIComponent(next)}`, { maxRedirects: 0 });
    expect(res.status(), JSON.stringify(next)).toBe(307);
    const location = res.headers().location ?? '';
    expect(location, JSON.stringify(next)).not.toMatch(/[\s\u0080-\uffff]/);
    const target = new URL(location, BASE_URL);
    expect(target.origin, JSON.stringify(next)).toBe(BASE_URL);
    expect(target.pathname.startsWith('//'), JSON.stringify(next)).toBe(false);
  }
});
