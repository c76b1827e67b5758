import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import postgres from 'postgres';
import { sign } from '@/lib/providers/sly/signature';
import { type AppProcess, appDir, ensureAppBuilt, startApp, until } from './helpers/app-process';

// Two replicas of the real app (`npm start`'s entry) on one Postgres database: a source created
// through one replica's API is served by the other at once, and its secret shows up nowhere.

const ADMIN = process.env.TEST_DATABASE_URL;
const PORTS = [3510, 3511] as const;
const TOKEN = 'replica-test-api-token-0123456789abcdef';
const NEW_SECRET = `whsec_replica_${randomBytes(12).toString('hex')}`;
const SLY_DEFAULT = `whsec_default_${randomBytes(12).toString('hex')}`;
const KEY = randomBytes(32).toString('base64');

describe('sources across replicas (Postgres)', { skip: ADMIN ? false : 'needs TEST_DATABASE_URL' }, () => {
  const apps: AppProcess[] = [];
  let dbName = '';
  let dbUrl = '';

  before(
    async () => {
      await ensureAppBuilt();
      dbName = `t_${randomBytes(6).toString('hex')}`;
      const admin = postgres(ADMIN!, { max: 1, onnotice: () => {} });
      await admin.unsafe(`create database ${dbName}`);
      await admin.end();
      const u = new URL(ADMIN!);
      u.pathname = `/${dbName}`;
      dbUrl = u.toString();
      const env = {
        DATABASE_URL: dbUrl,
        // Not sandbox mode: nothing streams, every receipt is this test's.
        SKYLIGHT_API_KEY: 'unused-management-key',
        SKYLIGHT_API_URL: 'http://127.0.0.1:9/api/v1',
        SKYLIGHT_WEBHOOK_SECRET: 'whsec_skylight_replica_test_secret',
        SLY_WEBHOOK_SECRET: SLY_DEFAULT,
        SECRETS_ENCRYPTION_KEY: KEY,
        DASHBOARD_PASSWORD: 'replica-dashboard-password',
        DASHBOARD_API_TOKEN: TOKEN,
        // The most verbose level: a secret that reached any log line would show here.
        LOG_LEVEL: 'trace',
      };
      apps.push(
        ...(await Promise.all(PORTS.map((port) => startApp({ port, env, readyTimeoutMs: 120_000 })))),
      );
    },
    { timeout: 15 * 60_000 },
  );

  after(async () => {
    await Promise.all(apps.map((a) => a.kill()));
    if (dbName) {
      const admin = postgres(ADMIN!, { max: 1, onnotice: () => {} });
      await admin.unsafe(`drop database if exists ${dbName} with (force)`);
      await admin.end();
    }
  });

  const api = (app: AppProcess, method: string, p: string, body?: unknown) =>
    fetch(`${app.url}${p}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  const slyPost = async (app: AppProcess, slug: string, secret: string) => {
    const id = `evt_${randomUUID()}`;
    const body = JSON.stringify({
      id,
      type: 'transfer.completed',
      created_at: new Date().toISOString(),
      data: {},
    });
    const res = await fetch(`${app.url}/api/webhooks/${slug}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-sly-signature': sign(body, secret, Math.floor(Date.now() / 1000)),
        'x-sly-event-id': id,
        'x-sly-delivery-id': `del_${randomUUID()}`,
      },
      body,
    });
    await res.arrayBuffer();
    return { id, status: res.status };
  };

  test('created on replica A, it receives on replica B at once; disabled on A, B answers 410 within 5 s', {
    timeout: 120_000,
  }, async () => {
    const [a, b] = apps as [AppProcess, AppProcess];
    // B has been asked for the slug before it existed: that miss is remembered for at most 1 s.
    assert.equal((await slyPost(b, 'treasury', NEW_SECRET)).status, 404);
    await new Promise((r) => setTimeout(r, 1100));

    const created = await api(a, 'POST', '/api/sources', {
      slug: 'treasury',
      provider: 'sly',
      secrets: [NEW_SECRET],
    });
    assert.equal(created.status, 201);
    const first = await slyPost(b, 'treasury', NEW_SECRET);
    assert.equal(first.status, 200, 'served by the other replica without a restart');

    const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql`select source, provider, outcome from receipts where delivery_id = ${first.id}`;
      assert.deepEqual(
        rows.map((r) => [r.source, r.provider, r.outcome]),
        [['treasury', 'sly', 'accepted']],
      );
      const [stored] = await sql`select ciphertext from source_secrets where source = 'treasury'`;
      assert.ok(stored && !String(stored.ciphertext).includes(NEW_SECRET), 'sealed at rest');
    } finally {
      await sql.end();
    }

    assert.equal((await api(a, 'PATCH', '/api/sources/treasury', { enabled: false })).status, 200);
    assert.equal(
      (await slyPost(a, 'treasury', NEW_SECRET)).status,
      410,
      'the replica that changed it: at once',
    );
    await until(
      'replica B refuses the disabled source',
      async () => (await slyPost(b, 'treasury', NEW_SECRET)).status === 410,
      7_000,
    );
  });

  test('secrets appear in no API answer, no log line and no browser bundle', {
    timeout: 60_000,
  }, async () => {
    for (const app of apps) {
      const text = await (await api(app, 'GET', '/api/sources')).text();
      assert.match(text, /"slug":"treasury"/);
      for (const secret of [NEW_SECRET, SLY_DEFAULT, KEY]) assert.ok(!text.includes(secret), 'API answer');
      for (const secret of [NEW_SECRET, SLY_DEFAULT, KEY]) assert.ok(!app.logs().includes(secret), 'logs');
    }
    const staticDir = path.join(appDir(), '.next', 'static');
    const files = (function walk(dir: string): string[] {
      return readdirSync(dir).flatMap((n) => {
        const p = path.join(dir, n);
        return statSync(p).isDirectory() ? walk(p) : [p];
      });
    })(staticDir).filter((f) => f.endsWith('.js'));
    assert.ok(files.length > 0);
    for (const f of files) {
      const js = readFileSync(f, 'utf8');
      assert.ok(!js.includes('SECRETS_ENCRYPTION_KEY') && !js.includes(NEW_SECRET), f);
      // The browser gets the provider catalogue, never signature or sealing code.
      assert.ok(!js.includes('aes-256-gcm') && !js.includes('createHmac'), f);
    }
  });
});
