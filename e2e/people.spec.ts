import { API_TOKEN, BASE_URL } from './env';
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

const unique = (role: string) => `${role}-${Date.now()}@people.test`;

test('an admin adds an operator; the operator retries a dead letter; the audit names the operator', async ({
  page,
  browser,
}) => {
  await login(page);
  await setDownstreamOutage(page.request, true);
  let deliveryId: string;
  try {
    deliveryId = await postDelivery(page.request, inboundMessage('e2e people dead letter'));
    await expect.poll(() => eventStatusOf(page.request, deliveryId), { timeout: 30_000 }).toBe('dead');
  } finally {
    await setDownstreamOutage(page.request, false);
  }

  // The admin adds the operator in the dashboard and reads the one-time password off the page.
  const email = unique('operator');
  await page.goto('/users');
  const form = page.getByRole('form', { name: 'Add a user' });
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Role').selectOption('operator');
  await form.getByRole('button', { name: 'Add user' }).click();
  const otp = (await page.getByTestId('one-time-password').textContent())!.trim();
  expect(otp.length).toBeGreaterThanOrEqual(20);
  await expect(
    page.getByRole('table', { name: 'Users' }).getByRole('row', { name: new RegExp(email) }),
  ).toBeVisible();
  await screenshot(page, 'users');

  // The operator logs in through the form, in a browser of their own.
  const ctx = await browser.newContext();
  const op = await ctx.newPage();
  try {
    await op.goto('/dlq');
    await expect(op).toHaveURL(/\/login\?next=%2Fdlq/);
    await op.getByLabel('Email').fill(email);
    await op.getByLabel('Password').fill(otp);
    await op.getByRole('button', { name: 'Log in' }).click();
    await expect(op).toHaveURL(/\/dlq$/);
    await expect(op.getByTestId('me')).toContainText(`${email} · operator`);
    await expect(op.getByTestId('note-role')).toHaveCount(0);
    await expect(op.getByRole('link', { name: 'Users' })).toHaveCount(0);

    await op.getByRole('button', { name: `Open dead letter ${deliveryId}` }).click();
    await op
      .getByRole('dialog', { name: /^Dead letter · event #\d+$/ })
      .getByRole('button', { name: 'Retry this event' })
      .click();
    await expect(op.getByRole('status').filter({ hasText: 'Re-queued event' })).toBeVisible();
    await expect.poll(() => eventStatusOf(page.request, deliveryId)).toBe('processed');

    // The admin disables the operator: their open session ends with the next request.
    await page.goto('/users');
    await page.getByRole('button', { name: `Disable ${email}` }).click();
    await expect(page.getByRole('status').filter({ hasText: `${email} is now disabled` })).toBeVisible();
    expect((await op.request.get('/api/dlq?limit=1')).status()).toBe(401);
    await page.getByRole('button', { name: `Enable ${email}` }).click();
    await expect(page.getByRole('status').filter({ hasText: `${email} is now active` })).toBeVisible();
    expect((await op.request.get('/api/dlq?limit=1')).status(), 'enabling does not revive sessions').toBe(
      401,
    );

    // The admin resets the operator's password: confirmed, shown once; the old one stops working.
    await page.getByRole('button', { name: `Reset the password of ${email}` }).click();
    const dialog = page.getByRole('dialog', { name: `Reset the password of ${email}?` });
    await dialog.getByRole('button', { name: 'Reset password' }).click();
    const fresh = (await page.getByTestId('reset-password').textContent())!.trim();
    expect(fresh.length).toBeGreaterThanOrEqual(20);
    expect(fresh).not.toBe(otp);
    const tryLogin = async (password: string) =>
      (
        await op.request.post('/api/auth/login', {
          data: { email, password },
          headers: { Origin: BASE_URL, 'X-Forwarded-For': '203.0.113.61' },
        })
      ).status();
    expect(await tryLogin(otp), 'the old password').toBe(401);
    expect(await tryLogin(fresh), 'the new one').toBe(200);
  } finally {
    await ctx.close();
  }

  // The audit page, filtered by the operator, shows the retry under their email, with the client.
  await page.goto(`/audit?actor=${encodeURIComponent(email)}`);
  const table = page.getByRole('table', { name: 'Audit log' });
  const retry = table.getByRole('row').filter({ hasText: 'dlq_retry' });
  await expect(retry).toHaveCount(1);
  await expect(retry).toContainText(email);
  // The browser's socket address (Chromium reaches localhost over ::1 or 127.0.0.1).
  await expect(retry).toContainText(/127\.0\.0\.1|::1/);
  await expect(table.getByRole('row').filter({ hasText: 'login' }).first()).toContainText(email);
  await screenshot(page, 'audit-by-user');

  // The same filter exports as CSV, streamed, with the operator's rows only.
  const csv = await page.request.get(`/api/audit/export?format=csv&actor=${encodeURIComponent(email)}`);
  expect(csv.status()).toBe(200);
  expect(csv.headers()['content-type']).toContain('text/csv');
  const lines = (await csv.text()).trim().split('\r\n');
  expect(lines[0]).toBe('id,at,actor,token_name,action,target,result,code,ip,detail');
  expect(lines.slice(1).every((l) => l.split(',')[2] === email)).toBe(true);
  expect(lines.some((l) => l.includes(',dlq_retry,'))).toBe(true);
});

test('a viewer sees what they may not do disabled, with the reason', async ({ page, playwright }) => {
  const email = unique('viewer');
  const password = 'viewer-password-e2e';
  const api = await playwright.request.newContext();
  const res = await api.post('/api/users', {
    data: { email, role: 'viewer', password },
    headers: { Authorization: `Bearer ${API_TOKEN}` },
  });
  expect(res.status()).toBe(201);
  await api.dispose();

  await login(page, email, password);
  await page.goto('/dlq');
  const note = page.getByTestId('note-role');
  await expect(note).toContainText('You are logged in as a viewer: retry and discard are disabled.');
  await expect(note).toContainText('Needs the operator role; ask an admin.');
  const retryAll = page.getByRole('button', { name: 'Retry all matching…' });
  await expect(retryAll).toBeDisabled();
  await expect(retryAll).toHaveAttribute('title', 'Needs the operator role; ask an admin.');
  await screenshot(page, 'dlq-viewer');

  await page.goto('/webhooks');
  const notes = page.getByTestId('note-role');
  await expect(notes.filter({ hasText: 'enabling and disabling webhooks are disabled' })).toBeVisible();
  const first = page.getByRole('switch').first();
  await expect(first).toBeDisabled();
  // Sources are an admin's: the form and the switches say so before the API would refuse.
  await expect(notes.filter({ hasText: 'adding and switching sources are disabled' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Add source' })).toBeDisabled();

  await expect(page.getByRole('link', { name: 'Users' })).toHaveCount(0);
  await page.goto('/users');
  await expect(page.getByTestId('note-role')).toContainText('managing people are disabled');
  await expect(page.getByRole('table', { name: 'Users' })).toHaveCount(0);

  // Its own account is its own to manage: a viewer token, but no operator token.
  await page.goto('/account');
  await expect(page.getByLabel('Role').locator('option')).toHaveText(['viewer']);
});
