import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEnv } from './env';

test('defaults give sandbox mode on embedded PGlite', () => {
  const e = parseEnv({});
  assert.equal(e.sandbox, true);
  assert.equal(e.DATABASE_URL, undefined);
  assert.equal(e.PGLITE_DIR, '.data/pglite');
  assert.equal(e.WORKER_MAX_ATTEMPTS, 5);
  assert.equal(e.WORKER_INLINE, true);
});

test('the worker runs one transaction at a time on PGlite, four on Postgres, unless told', () => {
  assert.equal(parseEnv({}).WORKER_CONCURRENCY, 1);
  assert.equal(parseEnv({ DATABASE_URL: 'postgres://h/db' }).WORKER_CONCURRENCY, 4);
  assert.equal(parseEnv({ WORKER_CONCURRENCY: '3' }).WORKER_CONCURRENCY, 3);
  assert.equal(parseEnv({ DATABASE_URL: 'postgres://h/db', WORKER_CONCURRENCY: '1' }).WORKER_CONCURRENCY, 1);
  assert.throws(() => parseEnv({ WORKER_CONCURRENCY: '0' }), /WORKER_CONCURRENCY/);
});

test('a comma-separated secret list is split for rotation', () => {
  const e = parseEnv({ SKYLIGHT_API_KEY: 'k', SKYLIGHT_WEBHOOK_SECRET: 'new, old' });
  assert.deepEqual(e.webhookSecrets, ['new', 'old']);
  assert.equal(e.sandbox, false);
});

test('errors name the variable and the fix', () => {
  assert.throws(() => parseEnv({ WORKER_MAX_ATTEMPTS: 'lots' }), /WORKER_MAX_ATTEMPTS/);
  assert.throws(() => parseEnv({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL: must be a postgres/);
  assert.throws(
    () => parseEnv({ SKYLIGHT_API_KEY: 'k' }),
    /SKYLIGHT_WEBHOOK_SECRET: is required when SKYLIGHT_API_KEY is set/,
  );
  assert.throws(
    () => parseEnv({ SKYLIGHT_API_KEY: 'k', SKYLIGHT_WEBHOOK_SECRET: 's', NODE_ENV: 'production' }),
    /DASHBOARD_PASSWORD: is required in production/,
  );
  assert.throws(() => parseEnv({ WORKER_INLINE: 'maybe' }), /WORKER_INLINE/);
  assert.throws(() => parseEnv({ METRICS_TOKEN: 'short' }), /METRICS_TOKEN: must be at least 24 characters/);
  assert.throws(
    () => parseEnv({ SKYLIGHT_API_KEY: 'k', SKYLIGHT_WEBHOOK_SECRET: ' , ' }),
    /SKYLIGHT_WEBHOOK_SECRET: must hold at least one secret/,
  );
  assert.throws(
    () => parseEnv({ SLY_WEBHOOK_SECRET: ',' }),
    /SLY_WEBHOOK_SECRET: must hold at least one secret/,
  );
  assert.throws(
    () => parseEnv({ SKYLIGHT_API_URL: 'http://dashboard.skylightchat.com/api/v1' }),
    /SKYLIGHT_API_URL: must be https:\/\//,
  );
  for (const local of [
    'http://127.0.0.1:4100/api/v1',
    'http://localhost:4100/api/v1',
    'http://[::1]:4100/api/v1',
  ]) {
    assert.equal(parseEnv({ SKYLIGHT_API_URL: local }).SKYLIGHT_API_URL, local);
  }
});

test('TRUST_PROXY takes true, false or a proxy count, and nothing else', () => {
  assert.equal(parseEnv({}).TRUST_PROXY, false);
  assert.equal(parseEnv({ TRUST_PROXY: 'true' }).TRUST_PROXY, true);
  assert.equal(parseEnv({ TRUST_PROXY: 'false' }).TRUST_PROXY, false);
  assert.equal(parseEnv({ TRUST_PROXY: '2' }).TRUST_PROXY, 2);
  assert.throws(
    () => parseEnv({ TRUST_PROXY: 'yes-please' }),
    /TRUST_PROXY: must be true, false, or a number/,
  );
  assert.throws(() => parseEnv({ TRUST_PROXY: '11' }), /TRUST_PROXY/);
});

test("APP_PUBLIC_URL is the contract's name; APP_URL, its earlier name, is read when it is unset", () => {
  assert.equal(
    parseEnv({ APP_PUBLIC_URL: 'https://hooks.example.com' }).APP_PUBLIC_URL,
    'https://hooks.example.com',
  );
  assert.equal(parseEnv({ APP_URL: 'https://old.example.com' }).APP_PUBLIC_URL, 'https://old.example.com');
  assert.equal(
    parseEnv({ APP_PUBLIC_URL: 'https://hooks.example.com', APP_URL: 'https://old.example.com' })
      .APP_PUBLIC_URL,
    'https://hooks.example.com',
  );
  assert.throws(() => parseEnv({ APP_PUBLIC_URL: 'ftp://x' }), /APP_PUBLIC_URL/);
});
