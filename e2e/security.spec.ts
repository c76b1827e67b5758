import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type APIRequestContext, expect, test } from '@playwright/test';
import { ADMIN_EMAIL, API_TOKEN, BASE_URL, PASSWORD, WEBHOOK_SECRET } from './env';

// Security properties of the running app, checked against its own file tree: every API route
// refuses anonymous callers, cookie mutations need our Origin, the session cookie and response
// headers are locked down, and no secret reaches the browser bundle.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const API_DIR = path.join(root, 'app', 'api');
/** Public by design (CONTRACT.md): the provider's receiver, health, and the login itself. */
const PUBLIC = new Set(['/api/webhooks/skylightchat', '/api/health', '/api/auth/login']);
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
type Method = (typeof METHODS)[number];
/** `path` has every `[param]` replaced by a concrete value; `template` keeps the folder names. */
type Route = { path: string; template: string; methods: Method[] };

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

/** Every app/api/**\/route.ts with the HTTP methods it exports; `[param]` becomes a concrete value. */
function apiRoutes(): Route[] {
  return files(API_DIR)
    .filter((f) => path.basename(f) === 'route.ts')
    .map((f) => {
      const rel = path.relative(path.join(root, 'app'), path.dirname(f)).split(path.sep).join('/');
      const source = readFileSync(f, 'utf8');
      const methods = METHODS.filter((m) =>
        new RegExp(`export\\s+(?:const|async\\s+function|function)\\s+${m}\\b`).test(source),
      );
      // A source's receiver path takes the default SkyLight source; any other `[param]` becomes 1.
      const concrete = rel.replace('webhooks/[source]', 'webhooks/skylightchat').replace(/\[[^\]]+\]/g, '1');
      return { path: `/${concrete}`, template: `/${rel}`, methods };
    })
    .sort((a, b) => a.path.localeCompare(b.path));
}

const routes = apiRoutes();
const guarded = routes.filter((r) => !PUBLIC.has(r.path));

function send(ctx: APIRequestContext, method: Method, url: string, headers: Record<string, string> = {}) {
  return ctx.fetch(url, {
    method,
    headers,
    ...(method === 'GET' ? {} : { data: {} }),
    maxRedirects: 0,
  });
}

test('the route list is what the app serves', () => {
  expect(routes.length).toBeGreaterThan(15);
  for (const p of PUBLIC) expect(routes.map((r) => r.path)).toContain(p);
  for (const r of routes) expect(r.methods.length, r.path).toBeGreaterThan(0);
});

test('every API route refuses callers without a session or token (401)', async ({ playwright }) => {
  const anon = await playwright.request.newContext({ baseURL: BASE_URL });
  try {
    const failures: string[] = [];
    for (const r of guarded) {
      for (const m of r.methods) {
        for (const headers of [{}, { authorization: `Bearer ${'x'.repeat(32)}` }] as Record<
          string,
          string
        >[]) {
          const res = await send(anon, m, r.path, headers);
          const code = res.status() === 401 ? (await res.json()).error?.code : null;
          if (res.status() !== 401 || code !== 'unauthorized')
            failures.push(
              `${m} ${r.path}${'authorization' in headers ? ' (bad token)' : ''}: ${res.status()}`,
            );
        }
      }
    }
    expect(failures).toEqual([]);
    // The public ones really are public.
    expect((await anon.get('/api/health')).status()).toBe(200);
  } finally {
    await anon.dispose();
  }
});

test('session cookie: httpOnly, SameSite=Strict, Secure in production; mutations need our Origin', async ({
  playwright,
}) => {
  const login = await playwright.request.newContext({ baseURL: BASE_URL });
  const res = await login.post('/api/auth/login', {
    data: { email: ADMIN_EMAIL, password: PASSWORD },
    headers: { Origin: BASE_URL },
  });
  expect(res.status()).toBe(200);
  const setCookie = res.headersArray().find((h) => h.name.toLowerCase() === 'set-cookie')?.value ?? '';
  await login.dispose();

  // lib/auth/session.ts: HttpOnly and SameSite=Strict always; Secure whenever NODE_ENV=production,
  // as the e2e server runs. Chromium stores Secure cookies from http://localhost (a secure context).
  const attrs = setCookie.split(';').map((s) => s.trim().toLowerCase());
  expect(attrs).toContain('httponly');
  expect(attrs).toContain('samesite=strict');
  expect(attrs).toContain('path=/');
  expect(attrs).toContain('secure');
  const cookie = setCookie.split(';')[0]!;

  const ctx = await playwright.request.newContext({ baseURL: BASE_URL, storageState: undefined });
  try {
    // The cookie works for reads, so the 403s below are about the Origin and nothing else.
    expect((await ctx.get('/api/deliveries?limit=1', { headers: { cookie } })).status()).toBe(200);
    const failures: string[] = [];
    const mutations = guarded.flatMap((r) => r.methods.filter((m) => m !== 'GET').map((m) => ({ m, r })));
    expect(mutations.length).toBeGreaterThan(3);
    for (const { m, r } of mutations) {
      for (const origin of [
        null,
        'http://evil.example',
        'null',
        BASE_URL.replace('localhost', '127.0.0.1.nip.io'),
      ]) {
        const headers: Record<string, string> = { cookie };
        if (origin) headers.origin = origin;
        const answer = await send(ctx, m, r.path, headers);
        const code = answer.status() === 403 ? (await answer.json()).error?.code : null;
        if (answer.status() !== 403 || code !== 'forbidden')
          failures.push(`${m} ${r.path} origin=${origin}: ${answer.status()}`);
      }
    }
    expect(failures).toEqual([]);

    // With our Origin the same cookie may log out, and the cleared cookie keeps the same attributes.
    const out = await ctx.post('/api/auth/logout', { headers: { cookie, origin: BASE_URL } });
    expect(out.status()).toBe(200);
    const cleared = out.headersArray().find((h) => h.name.toLowerCase() === 'set-cookie')?.value ?? '';
    expect(cleared.toLowerCase()).toContain('httponly');
    expect(cleared.toLowerCase()).toContain('samesite=strict');
    expect((await ctx.get('/api/deliveries?limit=1', { headers: { cookie } })).status()).toBe(401);
  } finally {
    await ctx.dispose();
  }
});

test('responses carry CSP frame-ancestors none, nosniff and a Referrer-Policy', async ({ playwright }) => {
  const anon = await playwright.request.newContext({ baseURL: BASE_URL });
  try {
    const answers = [
      await anon.get('/login'),
      await anon.get('/api/health'),
      await anon.get('/api/deliveries'),
      await anon.post('/api/webhooks/skylightchat', {
        data: '{}',
        headers: { 'content-type': 'application/json' },
      }),
    ];
    const missing: string[] = [];
    for (const res of answers) {
      const h = res.headers();
      const where = `${res.url()} (${res.status()})`;
      if (!h['content-security-policy']?.includes("frame-ancestors 'none'"))
        missing.push(`${where}: CSP ${JSON.stringify(res.headersArray())}`);
      if (h['x-content-type-options'] !== 'nosniff') missing.push(`${where}: nosniff`);
      if (!h['referrer-policy']) missing.push(`${where}: Referrer-Policy`);
      if (h['x-powered-by'] !== undefined) missing.push(`${where}: X-Powered-By`);
    }
    expect(missing).toEqual([]);
  } finally {
    await anon.dispose();
  }
});

test('GET /metrics without METRICS_TOKEN: scrapeable by anyone, without the exact Node version', async ({
  playwright,
}) => {
  const anon = await playwright.request.newContext({ baseURL: BASE_URL });
  try {
    const res = await anon.get('/metrics');
    expect(res.status()).toBe(200);
    const text = await res.text();
    expect(text).toContain('skylight_receipts_total');
    expect(text).toContain('process_resident_memory_bytes');
    expect(text).not.toContain('nodejs_version_info');
    expect(text).not.toContain(process.version);
  } finally {
    await anon.dispose();
  }
});

test('the client bundle holds no secret', () => {
  const dir = path.join(root, '.next', 'static');
  const all = files(dir);
  expect(all.length).toBeGreaterThan(0);
  const leaks: string[] = [];
  const literal = {
    DASHBOARD_PASSWORD: PASSWORD,
    DASHBOARD_API_TOKEN: API_TOKEN,
    SKYLIGHT_WEBHOOK_SECRET: WEBHOOK_SECRET,
  };
  // The sandbox's API key and webhook secrets are minted per process and never served, so the
  // bundle is searched for anything in their formats (lib/providers/skylight/sandbox/format.ts).
  const patterns = {
    'sandbox API key': /sk_live_[A-Za-z0-9]{40}/,
    'webhook secret': /whsec_[A-Za-z0-9]{64}/,
  };
  for (const f of all) {
    const text = readFileSync(f, 'latin1');
    for (const [name, value] of Object.entries(literal))
      if (text.includes(value)) leaks.push(`${name} in ${f}`);
    for (const [name, re] of Object.entries(patterns)) if (re.test(text)) leaks.push(`${name} in ${f}`);
  }
  expect(leaks).toEqual([]);
});

// The role each route and method needs (issue 18): viewer reads and manages only their own account,
// operator acts on events and webhooks, admin manages people. Written out here, not read from the
// routes, so a route that declares a different role than this table fails the test.
type Role = 'viewer' | 'operator' | 'admin';
const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
const ROLE_OF: Record<string, Role> = {
  'GET /api/alerts': 'viewer',
  'GET /api/alerts/verdict': 'viewer',
  'POST /api/alerts/[id]/acknowledge': 'operator',
  'GET /api/alert-rules': 'viewer',
  'PATCH /api/alert-rules/[rule]': 'admin',
  'GET /api/sandbox/faults': 'viewer',
  'POST /api/sandbox/faults': 'operator',
  'GET /api/audit': 'viewer',
  'GET /api/audit/export': 'viewer',
  'POST /api/auth/logout': 'viewer',
  'GET /api/deliveries': 'viewer',
  'GET /api/deliveries/[id]': 'viewer',
  'GET /api/deliveries/[id]/diff': 'viewer',
  'POST /api/deliveries/[id]/enqueue': 'operator',
  'POST /api/deliveries/enqueue': 'operator',
  'GET /api/deliveries/export': 'viewer',
  'GET /api/dlq/export': 'viewer',
  'GET /api/sandbox/downstream': 'viewer',
  'GET /api/sources': 'viewer',
  'POST /api/sources': 'admin',
  'PATCH /api/sources/[slug]': 'admin',
  'GET /api/sources/[slug]/secrets': 'viewer',
  'POST /api/sources/[slug]/secrets': 'operator',
  'POST /api/sources/[slug]/secrets/rotate': 'operator',
  'DELETE /api/sources/[slug]/secrets/[id]': 'operator',
  'POST /api/sandbox/downstream': 'operator',
  'POST /api/sandbox/losses': 'operator',
  'GET /api/dlq': 'viewer',
  'GET /api/dlq/[id]': 'viewer',
  'GET /api/dlq/count': 'viewer',
  'POST /api/dlq/[id]/retry': 'operator',
  'POST /api/dlq/[id]/discard': 'operator',
  'POST /api/dlq/retry': 'operator',
  'GET /api/events': 'viewer',
  'GET /api/me': 'viewer',
  'POST /api/me/password': 'viewer',
  'GET /api/me/sessions': 'viewer',
  'DELETE /api/me/sessions/[id]': 'viewer',
  'GET /api/me/tokens': 'viewer',
  'POST /api/me/tokens': 'viewer',
  'DELETE /api/me/tokens/[id]': 'viewer',
  'GET /api/metrics/ack-latency': 'viewer',
  'GET /api/metrics/delivery-lag': 'viewer',
  'GET /api/metrics/outcomes': 'viewer',
  'GET /api/metrics/retry-rate': 'viewer',
  'GET /api/metrics/summary': 'viewer',
  'GET /api/payload-drift': 'viewer',
  'GET /api/provider/webhooks': 'viewer',
  'PATCH /api/provider/webhooks/[id]': 'operator',
  'GET /api/provider/webhooks/[id]/deliveries': 'viewer',
  'GET /api/reconciliation': 'viewer',
  'GET /api/reconciliation/export': 'viewer',
  'GET /api/reconciliation/summary': 'viewer',
  'POST /api/reconciliation/run': 'operator',
  'GET /api/users': 'admin',
  'POST /api/users': 'admin',
  'PATCH /api/users/[id]': 'admin',
  'POST /api/users/[id]/password': 'admin',
};

/** A person with a role and a personal API token of that role, made through the API as an admin would. */
async function personWithToken(ctx: APIRequestContext, role: Role, client: string) {
  const email = `${role}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@matrix.test`;
  const password = `${role}-matrix-password`;
  const admin = { Authorization: `Bearer ${API_TOKEN}` };
  expect((await ctx.post('/api/users', { data: { email, role, password }, headers: admin })).status()).toBe(
    201,
  );
  const headers = { Origin: BASE_URL, 'X-Forwarded-For': client };
  expect((await ctx.post('/api/auth/login', { data: { email, password }, headers })).status()).toBe(200);
  const res = await ctx.post('/api/me/tokens', { data: { name: `matrix ${role}`, role }, headers });
  expect(res.status()).toBe(201);
  return { email, token: (await res.json()).data.token as string };
}

test('every route and method gives viewer, operator and admin what the role table says', async ({
  playwright,
}) => {
  const keys = guarded.flatMap((r) => r.methods.map((m) => `${m} ${r.template}`));
  expect(
    keys.filter((k) => !(k in ROLE_OF)),
    'routes on disk missing from the role table',
  ).toEqual([]);
  expect(
    Object.keys(ROLE_OF).filter((k) => !keys.includes(k)),
    'table rows with no route',
  ).toEqual([]);

  const people: Partial<Record<Role, { email: string; token: string }>> = {};
  for (const [i, role] of (['viewer', 'operator', 'admin'] as const).entries()) {
    const ctx = await playwright.request.newContext({ baseURL: BASE_URL });
    people[role] = await personWithToken(ctx, role, `203.0.113.${20 + i}`);
    await ctx.dispose();
  }
  const anon = await playwright.request.newContext({ baseURL: BASE_URL });
  try {
    const failures: string[] = [];
    for (const r of guarded) {
      // An id that matches nothing, and a body that no route accepts (strict schemas): an allowed
      // call is answered after the role check without changing anything.
      const url = `/${r.template.slice(1).replace(/\[[^\]]+\]/g, '999999')}`;
      for (const m of r.methods) {
        const needed = ROLE_OF[`${m} ${r.template}`]!;
        for (const role of ['viewer', 'operator', 'admin'] as const) {
          const res = await anon.fetch(url, {
            method: m,
            headers: { authorization: `Bearer ${people[role]!.token}` },
            ...(m === 'GET' ? {} : { data: { probe: true } }),
            maxRedirects: 0,
          });
          const body = res.headers()['content-type']?.includes('json') ? await res.json() : null;
          const roleRefusal = res.status() === 403 && /needs the \w+ role/.test(body?.error?.message ?? '');
          const allowed = RANK[role] >= RANK[needed];
          const ok = allowed
            ? !roleRefusal && res.status() !== 401 && res.status() !== 500
            : roleRefusal && body.error.code === 'forbidden';
          if (!ok) failures.push(`${role} ${m} ${url}: ${res.status()} ${JSON.stringify(body)}`);
        }
      }
    }
    expect(failures).toEqual([]);

    // Each refusal is in the audit under the person's email, with the token's name and the code.
    const audit = await anon.get(
      `/api/audit?action=request_refused&actor=${encodeURIComponent(people.viewer!.email)}&limit=200`,
      { headers: { authorization: `Bearer ${API_TOKEN}` } },
    );
    const rows = (await audit.json()).data as Array<Record<string, string>>;
    const refusedTargets = Object.entries(ROLE_OF)
      .filter(([k, role]) => role !== 'viewer' && !k.startsWith('GET '))
      .map(([k]) => k.replace(/\[[^\]]+\]/g, '999999'));
    expect(refusedTargets.length).toBeGreaterThan(3);
    for (const target of refusedTargets) {
      const row = rows.find((r) => r.target === target);
      expect(row, target).toMatchObject({
        result: 'refused',
        code: 'forbidden',
        token_name: 'matrix viewer',
      });
    }
  } finally {
    await anon.dispose();
  }
});
