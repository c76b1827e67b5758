import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { SOURCE_SLUG_PATTERN } from '@/db/schema';
import { type FakeProvider, PROVIDER_KEY, startFakeProvider } from './helpers/fake-provider';
import { type NextApp, startNextApp } from './helpers/next-app';

// Hostile input against every route of the JSON API found on disk (app/api/**/route.ts), over real
// HTTP to the built app, on a real database. Each case states the answer it must get (a specific
// 4xx with the error shape, never a 500) and checks that the database did not change: receipts,
// audit rows, and every event's status and attempts. The receiver has its own suite
// (hostile-receiver.test.ts); it is listed here only so a new route cannot go untested.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOKEN = 'hostile-api-token-0123456789abcdef';
const PASSWORD = 'hostile-dashboard-password';
const METRICS_TOKEN = 'hostile-metrics-token-0123456789abcdef';
const MAX_BODY = 64 * 1024;
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
type Method = (typeof METHODS)[number];

/** How each route reads its input; every route on disk must have an entry. */
type Profile = {
  /** Query parameters by kind (lib/api/schemas.ts). */
  query?: {
    text?: string[];
    eventType?: boolean;
    enumKey?: string;
    limit?: boolean;
    cursor?: boolean;
    range?: boolean;
    metricsRange?: boolean;
    page?: boolean;
  };
  /** The JSON body it parses, if any. */
  body?:
    | 'dlq-retry'
    | 'deliveries-enqueue'
    | 'webhook-patch'
    | 'login'
    | 'source-create'
    | 'source-patch'
    | 'secret-add'
    | 'secret-rotate'
    | 'user-create'
    | 'user-patch'
    | 'token-create'
    | 'sandbox-outage'
    | 'alert-rule-patch'
    | 'sandbox-fault';
  public?: boolean;
  /** Tested elsewhere (the receiver: test/hostile-receiver.test.ts). */
  elsewhere?: boolean;
  /** A person's own resource (/api/me/*): answers a logged-in user, refuses the env token (403). */
  person?: boolean;
  /** Answers 404 unless the embedded sandbox's demo downstream runs (not in this test's app). */
  sandboxOnly?: boolean;
  /**
   * Its one path parameter is a source slug, not an id: a well-formed slug that names no source is
   * answered 404 (nothing changed); the valid request uses the default source.
   */
  slug?: boolean;
  /** The longest value the route's text parameters accept (default 200). */
  textMax?: number;
};
const list = { limit: true, cursor: true };
const metricsQuery: Profile = { query: { eventType: true, metricsRange: true } };
const PROFILES: Record<string, Profile> = {
  '/api/alert-rules': {},
  '/api/alert-rules/[rule]': { body: 'alert-rule-patch' },
  '/api/alerts': { query: { ...list, enumKey: 'state' } },
  '/api/alerts/[id]/acknowledge': {},
  '/api/alerts/verdict': {},
  '/api/audit': { query: { ...list, text: ['actor'], enumKey: 'action', range: true }, textMax: 254 },
  '/api/audit/export': { query: { text: ['actor'], enumKey: 'format', range: true }, textMax: 254 },
  '/api/auth/login': { body: 'login', public: true },
  '/api/auth/logout': {},
  '/api/deliveries': {
    query: { ...list, text: ['q', 'text', 'value'], eventType: true, enumKey: 'outcome', range: true },
  },
  '/api/deliveries/[id]': {},
  '/api/deliveries/[id]/diff': {},
  '/api/deliveries/[id]/enqueue': {},
  '/api/deliveries/enqueue': { body: 'deliveries-enqueue' },
  '/api/deliveries/export': {
    query: { text: ['q', 'text', 'value'], eventType: true, enumKey: 'format', range: true },
  },
  '/api/dlq': { query: { ...list, text: ['error', 'text', 'value'], eventType: true, range: true } },
  '/api/dlq/export': {
    query: { text: ['error', 'text', 'value'], eventType: true, enumKey: 'format', range: true },
  },
  '/api/dlq/[id]': {},
  '/api/dlq/[id]/discard': {},
  '/api/dlq/[id]/retry': {},
  '/api/dlq/count': { query: { text: ['error'], eventType: true, range: true } },
  '/api/dlq/retry': { body: 'dlq-retry' },
  '/api/events': { query: { ...list, eventType: true, enumKey: 'status' } },
  '/api/health': { public: true },
  '/api/me': { person: true },
  // Refused (403) for a token before any body is read: its body checks are in test/auth.test.ts.
  '/api/me/password': { person: true },
  '/api/me/sessions': { person: true },
  '/api/me/sessions/[id]': { person: true },
  '/api/me/tokens': { body: 'token-create', person: true },
  '/api/me/tokens/[id]': { person: true },
  '/api/metrics/ack-latency': metricsQuery,
  '/api/metrics/delivery-lag': metricsQuery,
  '/api/metrics/outcomes': metricsQuery,
  '/api/metrics/retry-rate': metricsQuery,
  '/api/metrics/summary': metricsQuery,
  '/api/payload-drift': { query: { limit: true, range: true } },
  '/api/provider/webhooks': { query: { enumKey: 'provider' } },
  '/api/provider/webhooks/[id]': { body: 'webhook-patch' },
  '/api/provider/webhooks/[id]/deliveries': { query: { enumKey: 'status', page: true } },
  '/api/reconciliation': { query: { ...list, enumKey: 'class', range: true } },
  '/api/reconciliation/export': { query: { enumKey: 'format', range: true } },
  '/api/reconciliation/run': {},
  '/api/reconciliation/summary': { query: { range: true } },
  '/api/sandbox/downstream': { body: 'sandbox-outage', sandboxOnly: true },
  '/api/sandbox/losses': { sandboxOnly: true },
  '/api/sandbox/faults': { body: 'sandbox-fault', sandboxOnly: true },
  '/api/sources': { body: 'source-create' },
  '/api/users/[id]/password': {},
  '/api/sources/[slug]': { body: 'source-patch' },
  '/api/sources/[slug]/secrets': { body: 'secret-add', slug: true },
  '/api/sources/[slug]/secrets/[id]': {},
  '/api/sources/[slug]/secrets/rotate': { body: 'secret-rotate', slug: true },
  '/api/webhooks/[source]': { public: true, elsewhere: true },
  '/api/users': { body: 'user-create' },
  '/api/users/[id]': { body: 'user-patch' },
};

type Route = { pattern: string; methods: Method[]; profile: Profile };

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

const routes: Route[] = files(path.join(root, 'app', 'api'))
  .filter((f) => path.basename(f) === 'route.ts')
  .map((f) => {
    const pattern = `/${path.relative(path.join(root, 'app'), path.dirname(f)).split(path.sep).join('/')}`;
    const source = readFileSync(f, 'utf8');
    const methods = METHODS.filter((m) =>
      new RegExp(`export\\s+(?:const|async\\s+function|function)\\s+${m}\\b`).test(source),
    );
    return { pattern, methods, profile: PROFILES[pattern]! };
  })
  .sort((a, b) => a.pattern.localeCompare(b.pattern));
const tested = routes.filter((r) => !r.profile?.elsewhere);
const at = (r: Route, id = '1') => r.pattern.replace(/\[[^\]]+\]/g, id);

type Case = {
  name: string;
  method: Method;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  status: number;
  /** The error code expected in `{error: {code}}`; omitted for 2xx and Next's own 405. */
  code?: string;
};

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
const json = { 'content-type': 'application/json' };
/** Headers that make `send` authenticate with the logged-in session (made in `before`) and our Origin. */
const SESSION = '<the session cookie>';
const AS_SESSION = { authorization: '', cookie: SESSION };

function pathCases(r: Route): Case[] {
  if (!r.pattern.includes('[')) return [];
  // Not percent-encoded UTF-8: refused by proxy.ts before Next decodes the segment.
  const undecodable = ['%ff', '%', '%e0%a4', '%ed%a0%80', '%c0%af', '%zz', '1%', '%f0%9f%98'];
  // Decodable but not an id: refused by the route's idParam.
  const notIds = [
    '%00',
    '1%00',
    '0',
    '-1',
    '1.5',
    '1e3',
    '0x10',
    'abc',
    '%20',
    '99999999999999999999',
    '%ef%bc%91',
    '1%0a',
  ];
  // A route whose body is required refuses the missing body first (400); the others look the slug up.
  const namesNothing = (method: Method, seg: string) => {
    if (!r.profile.slug || undecodable.includes(seg)) return false;
    if (method !== 'GET' && r.profile.body !== 'secret-rotate') return false;
    return SOURCE_SLUG_PATTERN.test(decodeURIComponent(seg));
  };
  return r.methods.flatMap((method) =>
    [...undecodable, ...notIds].map((seg) => ({
      name: `${method} ${r.pattern} id=${seg}`,
      method,
      path: at(r, seg),
      ...(method === 'PATCH' ? { headers: json, body: '{"is_active":true}' } : {}),
      ...(namesNothing(method, seg)
        ? { status: 404, code: 'not_found' }
        : { status: 400, code: 'bad_request' }),
    })),
  );
}

function queryCases(r: Route): Case[] {
  const q = r.profile.query;
  if (!q) return [];
  const bad: Array<[string, string]> = [
    ['unknown key', 'nope=1'],
    ['NUL key', '%00=1'],
    ['constructor key', 'constructor=1'],
  ];
  for (const key of q.text ?? []) {
    bad.push(
      [`NUL in ${key}`, `${key}=%00`],
      [`NUL inside ${key}`, `${key}=abc%00def`],
      [`control character in ${key}`, `${key}=a%01b`],
      [`DEL in ${key}`, `${key}=%7f`],
      [`oversized ${key}`, `${key}=${'x'.repeat((r.profile.textMax ?? 200) + 1)}`],
      [`${key} given twice`, `${key}=a&${key}=b`],
    );
  }
  if (q.eventType) {
    bad.push(
      ['NUL in event_type', 'event_type=%00'],
      ['markup in event_type', 'event_type=%3Cscript%3E'],
      ['oversized event_type', `event_type=${'a'.repeat(101)}`],
    );
  }
  if (q.enumKey)
    bad.push([`unknown ${q.enumKey}`, `${q.enumKey}=bogus`], [`NUL ${q.enumKey}`, `${q.enumKey}=%00`]);
  if (q.limit) {
    for (const v of ['-1', '0', '201', '1e309', '99999999999999999999', 'abc', '1.5', '%00', '0x10'])
      bad.push([`limit=${v}`, `limit=${v}`]);
    bad.push(['limit given twice', 'limit=1&limit=2']);
  }
  if (q.cursor) {
    for (const [what, v] of [
      ['garbage', '!!!'],
      ['id 0', b64('id:0')],
      ['negative id', b64('id:-1')],
      ['exponent', b64('id:1e3')],
      ['unsafe integer', b64('id:12345678901234567')],
      ['NUL', b64('id:1\u0000')],
      ['oversized', 'a'.repeat(65)],
      ['other prefix', b64('offset:10')],
    ] as const)
      bad.push([`cursor ${what}`, `cursor=${encodeURIComponent(v)}`]);
  }
  if (q.range || q.metricsRange) {
    bad.push(
      ['from not a date', 'from=yesterday'],
      ['from impossible date', 'from=2026-13-45T00:00:00Z'],
      ['from without time', 'from=2026-01-01'],
      ['from after to', 'from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z'],
      ['NUL in to', 'to=%00'],
      ['range over 400 days', 'from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z'],
      // Years Postgres cannot store once the offset is applied (each was a 500).
      ['from in year 0', 'from=0000-06-01T00:00:00Z'],
      ['from before year 1 after its offset', 'from=0001-01-01T00:00:00%2B01:00'],
      ['to past year 9999 after its offset', 'to=9999-12-31T23:59:59-05:00'],
    );
  }
  if (q.page) for (const v of ['0', '-1', '1e9', 'abc']) bad.push([`page=${v}`, `page=${v}`]);
  const cases: Case[] = bad.map(([what, query]) => ({
    name: `GET ${r.pattern} ${what}`,
    method: 'GET' as const,
    path: `${at(r)}?${query}`,
    status: 400,
    code: 'bad_request',
  }));
  // Next rebuilds the query from a plain object, which drops `__proto__` before any route sees it.
  cases.push({
    name: `GET ${r.pattern} __proto__ key`,
    method: 'GET',
    path: `${at(r)}?__proto__=1`,
    status: 200,
  });
  return cases;
}

function bodyCases(r: Route): Case[] {
  const kind = r.profile.body;
  if (!kind) return [];
  const method = r.methods.find((m) => m !== 'GET')!;
  const deepKey: Record<NonNullable<Profile['body']>, string> = {
    login: 'password',
    'webhook-patch': 'is_active',
    'dlq-retry': 'ids',
    'deliveries-enqueue': 'filter',
    'user-create': 'email',
    'user-patch': 'role',
    'token-create': 'name',
    'sandbox-outage': 'outage',
    'alert-rule-patch': 'threshold',
    'sandbox-fault': 'fault',
    'source-create': 'secrets',
    'source-patch': 'secrets',
    'secret-add': 'secret',
    'secret-rotate': 'overlap_seconds',
  };
  const deep = `{"${deepKey[kind]}":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
  const generic: Array<[string, string, Record<string, string>, number, string]> = [
    ['invalid JSON', '{"a":', json, 400, 'bad_request'],
    ['trailing garbage', '{} x', json, 400, 'bad_request'],
    ['text/plain', '{}x', { 'content-type': 'text/plain' }, 415, 'unsupported_media_type'],
    [
      'form-encoded',
      'a=1',
      { 'content-type': 'application/x-www-form-urlencoded' },
      415,
      'unsupported_media_type',
    ],
    ['no content type', '{"x":1}', {}, 415, 'unsupported_media_type'],
    ['array body', '[]', json, 400, 'bad_request'],
    ['number body', '1', json, 400, 'bad_request'],
    ['string body', '"x"', json, 400, 'bad_request'],
    ['null body', 'null', json, 400, 'bad_request'],
    ['deep nesting', deep, json, 400, 'bad_request'],
    ['unknown key', '{"nope":1}', json, 400, 'bad_request'],
    ['__proto__ key', '{"__proto__":{"admin":true}}', json, 400, 'bad_request'],
    ['NUL in a key', '{"a\\u0000":1}', json, 400, 'bad_request'],
    ['invalid UTF-8', '{"x":"\xff"}', json, 400, 'bad_request'],
    ['just over the limit', `{"x":"${'a'.repeat(MAX_BODY)}"}`, json, 413, 'payload_too_large'],
  ];
  const specific: Record<NonNullable<Profile['body']>, Array<[string, unknown]>> = {
    'dlq-retry': [
      ['event_type a number', { event_type: 5 }],
      ['event_type an array', { event_type: ['contact.created'] }],
      ['event_type with NUL', { event_type: 'contact\u0000created' }],
      ['error with NUL', { error: 'a\u0000b' }],
      ['error with a lone surrogate', { error: '\ud800x' }],
      ['error oversized', { error: 'e'.repeat(201) }],
      ['ids a string', { ids: '1' }],
      ['ids empty', { ids: [] }],
      ['ids huge number', { ids: [1e308] }],
      ['ids unsafe integer', { ids: [2 ** 53 + 2] }],
      ['ids negative', { ids: [-1] }],
      ['ids fractional', { ids: [1.5] }],
      ['ids nested', { ids: [[1]] }],
      ['ids over 1000', { ids: Array.from({ length: 1001 }, (_, i) => i + 1) }],
      ['from after to', { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }],
      ['from not a date', { from: 'last week' }],
      ['dry_run a string', { dry_run: 'yes' }],
      ['exclude_superseded a number', { exclude_superseded: 1 }],
      ['path without value', { path: 'data.contact.email' }],
      ['path with a quote', { path: "data.x'", value: 'a' }],
      ['text too short', { text: 'ab' }],
    ],
    'deliveries-enqueue': [
      ['filter an array', { filter: [] }],
      ['filter with an unknown key', { filter: { nope: 1 } }],
      ['outcome unknown', { filter: { outcome: 'bogus' } }],
      ['from not a date', { filter: { from: 'last week' } }],
      ['value without path', { filter: { value: 'x' } }],
      ['dry_run a string', { dry_run: 'true' }],
      ['limit is not a filter here', { filter: { limit: '5' } }],
    ],
    'webhook-patch': [
      ['is_active a string', { is_active: 'true' }],
      ['is_active a number', { is_active: 1 }],
      ['is_active null', { is_active: null }],
      ['is_active missing', {}],
      ['extra field', { is_active: true, secret: 'x' }],
      ['is_active an array', { is_active: [true] }],
    ],
    'source-create': [
      ['slug missing', { provider: 'sly', secrets: ['whsec_test-fake-secret'] }],
      ['slug with capitals', { slug: 'Pay', provider: 'sly', secrets: ['whsec_test-fake-secret'] }],
      ['slug with a slash', { slug: 'a/b', provider: 'sly', secrets: ['whsec_test-fake-secret'] }],
      ['slug oversized', { slug: 'a'.repeat(49), provider: 'sly', secrets: ['whsec_test-fake-secret'] }],
      ['provider unknown', { slug: 'pay', provider: 'stripe', secrets: ['whsec_test-fake-secret'] }],
      ['secrets missing', { slug: 'pay', provider: 'sly' }],
      ['secrets empty', { slug: 'pay', provider: 'sly', secrets: [] }],
      ['secret too short', { slug: 'pay', provider: 'sly', secrets: ['short'] }],
      ['secret with a space', { slug: 'pay', provider: 'sly', secrets: ['whsec 0123456789abcdef'] }],
      ['secret with NUL', { slug: 'pay', provider: 'sly', secrets: ['whsec_0123456789abcde\u0000'] }],
      [
        'enabled a string',
        { slug: 'pay', provider: 'sly', enabled: 'yes', secrets: ['whsec_test-fake-secret'] },
      ],
    ],
    'source-patch': [
      ['nothing to change', {}],
      ['enabled a string', { enabled: 'false' }],
      ['secrets empty', { secrets: [] }],
      ['secret an object without value', { secrets: [{ label: 'x' }] }],
      ['extra field', { enabled: true, provider: 'sly' }],
    ],
    'secret-add': [
      ['secret missing', { label: 'new' }],
      ['secret too short', { secret: 'short' }],
      ['secret a list', { secret: ['test-fake-secret-0001'] }],
      ['secret with a space', { secret: 'test fake secret 0001' }],
      ['overlap negative', { secret: 'test-fake-secret-0001', overlap_seconds: -1 }],
      ['overlap over 30 days', { secret: 'test-fake-secret-0001', overlap_seconds: 30 * 86_400 + 1 }],
      ['overlap fractional', { secret: 'test-fake-secret-0001', overlap_seconds: 1.5 }],
    ],
    'secret-rotate': [
      ['overlap a string', { overlap_seconds: '3600' }],
      ['overlap negative', { overlap_seconds: -1 }],
      ['webhook_id zero', { webhook_id: 0 }],
      ['extra field', { secret: 'test-fake-secret-0001' }],
    ],
    'user-create': [
      ['email missing', { role: 'viewer' }],
      ['email not an email', { email: 'nobody', role: 'viewer' }],
      ['email with NUL', { email: 'a\u0000@b.test', role: 'viewer' }],
      ['email oversized', { email: `${'a'.repeat(250)}@b.test`, role: 'viewer' }],
      ['role unknown', { email: 'x@b.test', role: 'root' }],
      ['role a number', { email: 'x@b.test', role: 1 }],
      ['password too short', { email: 'x@b.test', role: 'viewer', password: 'short' }],
      ['password an object', { email: 'x@b.test', role: 'viewer', password: { $ne: '' } }],
    ],
    'alert-rule-patch': [
      ['nothing to change', {}],
      ['enabled a string', { enabled: 'no' }],
      ['threshold a string', { threshold: '5' }],
      ['threshold negative', { threshold: -1 }],
      ['threshold huge', { threshold: 1e308 }],
      ['window fractional', { window_minutes: 1.5 }],
      ['window zero', { window_minutes: 0 }],
      ['extra field', { enabled: true, rule: 'storage' }],
    ],
    'sandbox-fault': [
      ['fault unknown', { fault: 'meteor', on: true }],
      ['on missing', { fault: 'wrong_secret' }],
      ['on a string', { fault: 'wrong_secret', on: 'yes' }],
      ['event_type with markup', { fault: 'silence', on: true, event_type: '<script>' }],
    ],
    'sandbox-outage': [
      ['outage a string', { outage: 'true' }],
      ['outage missing', {}],
      ['outage null', { outage: null }],
    ],
    'user-patch': [
      ['nothing to change', {}],
      ['role unknown', { role: 'owner' }],
      ['disabled a string', { disabled: 'yes' }],
      ['extra field', { role: 'viewer', email: 'x@b.test' }],
    ],
    'token-create': [
      ['name missing', { role: 'viewer' }],
      ['name blank', { name: '   ', role: 'viewer' }],
      ['name with NUL', { name: 'ci\u0000', role: 'viewer' }],
      ['name oversized', { name: 'n'.repeat(101), role: 'viewer' }],
      ['role unknown', { name: 'ci', role: 'god' }],
    ],
    login: [
      ['password empty', { password: '' }],
      ['password a number', { password: 12345678 }],
      ['password an object', { password: { $ne: '' } }],
      ['password with NUL', { password: `${PASSWORD}\u0000` }],
      ['password oversized', { password: 'p'.repeat(1025) }],
    ],
  };
  // A person's own routes that write (token creation) take a logged-in session, not a token.
  const as = r.profile.person ? AS_SESSION : {};
  const out: Case[] = generic.map(([what, body, headers, status, code]) => ({
    name: `${method} ${r.pattern} ${what}`,
    method,
    path: at(r),
    headers: { ...headers, ...as },
    body,
    status,
    code,
  }));
  for (const [what, value] of specific[kind]) {
    out.push({
      name: `${method} ${r.pattern} ${what}`,
      method,
      path: at(r),
      headers: { ...json, ...as },
      body: JSON.stringify(value),
      status: 400,
      code: 'bad_request',
    });
  }
  return out;
}

function methodCases(r: Route): Case[] {
  return METHODS.filter((m) => !r.methods.includes(m)).map((method) => ({
    name: `${method} ${r.pattern} (not served)`,
    method,
    path: at(r),
    status: 405,
  }));
}

function authCases(r: Route): Case[] {
  if (r.profile.public) return [];
  return r.methods.map((method) => ({
    name: `${method} ${r.pattern} with a wrong token`,
    method,
    path: at(r),
    headers: { authorization: `Bearer ${TOKEN}x` },
    status: 401,
    code: 'unauthorized',
  }));
}

const metricsCases: Case[] = [
  ['without a token', ''],
  ['with the API token', `Bearer ${TOKEN}`],
  ['with a prefix of the token', `Bearer ${METRICS_TOKEN.slice(0, 24)}`],
  ['with the token as Basic', `Basic ${METRICS_TOKEN}`],
].map(([what, authorization]) => ({
  name: `GET /metrics ${what}`,
  method: 'GET' as const,
  path: '/metrics',
  headers: { authorization: authorization! },
  status: 401,
  code: 'unauthorized',
}));

let provider: FakeProvider;
let app: NextApp;
let cookie: string;

before(async () => {
  provider = await startFakeProvider([
    {
      id: 1,
      name: 'Hostile target',
      url: 'https://ops.example/hook',
      events: ['contact.created'],
      is_active: true,
    },
  ]);
  app = await startNextApp({
    DASHBOARD_API_TOKEN: TOKEN,
    DASHBOARD_PASSWORD: PASSWORD,
    METRICS_TOKEN,
    SKYLIGHT_API_KEY: PROVIDER_KEY,
    SKYLIGHT_API_URL: provider.url,
    SKYLIGHT_WEBHOOK_SECRET: 'hostile-api-signing-secret',
  });
  await seed();
  const login = await fetch(`${app.url}/api/auth/login`, {
    method: 'POST',
    headers: { ...json, origin: app.url },
    body: JSON.stringify({ password: PASSWORD }),
  });
  assert.equal(login.status, 200, await login.text());
  cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
});
after(async () => {
  await app?.close();
  await provider?.close();
});

/** Rows written straight to the tables belong to the default SkyLight source. */
const SKY = { source: 'skylightchat', provider: 'skylight' };

async function seed() {
  const { auditLog, events, receipts } = await import('@/db/schema');
  const db = app.db.db;
  const evs = await db
    .insert(events)
    .values([
      {
        ...SKY,
        deliveryId: 'dlv-h-1',
        eventType: 'contact.created',
        fingerprint: 'fp-h-1',
        payload: { a: 1 },
      },
      {
        ...SKY,
        deliveryId: 'dlv-h-2',
        eventType: 'message.received',
        fingerprint: 'fp-h-2',
        payload: { b: 2 },
        status: 'dead',
        attempts: 5,
        lastError: 'notify: downstream answered 500',
        deadAt: new Date(),
      },
      {
        ...SKY,
        deliveryId: 'dlv-h-3',
        eventType: 'booking.created',
        fingerprint: 'fp-h-3',
        payload: {},
        status: 'processed',
      },
    ])
    .returning({ id: events.id });
  await db.insert(receipts).values(
    evs.map((e, i) => ({
      ...SKY,
      deliveryId: `dlv-h-${i + 1}`,
      eventType: 'contact.created',
      outcome: 'accepted' as const,
      httpStatus: 200,
      ackMs: 3,
      headers: {},
      body: '{}',
      bodyBytes: 2,
      eventId: e.id,
    })),
  );
  await db.insert(auditLog).values({ actor: 'seed', action: 'login', ip: 'local' });
}

/** Row counts of receipts and audit_log, and every event's state: a hostile request changes none. */
async function dbState(): Promise<string> {
  const { rowsOf } = await import('@/db/client');
  const [row] = rowsOf<Record<string, unknown>>(
    await app.db.db.execute(sql`
      select (select count(*) from receipts)::int as receipts,
             (select count(*) from audit_log)::int as audit,
             (select count(*) from fingerprints)::int as fingerprints,
             (select string_agg(id || ':' || status || ':' || attempts || ':' || next_attempt_at::text
                                || ':' || coalesce(discarded_at::text, ''), ',' order by id) from events) as events`),
  );
  return JSON.stringify(row);
}

async function send(c: Case): Promise<{ status: number; text: string }> {
  // An empty authorization means "send none" (the cookie, if any, authenticates).
  const headers = Object.fromEntries(
    Object.entries({ authorization: `Bearer ${TOKEN}`, ...c.headers }).filter(([, v]) => v !== ''),
  );
  if (headers.cookie === SESSION) Object.assign(headers, { cookie, origin: app.url });
  const res = await fetch(`${app.url}${c.path}`, {
    method: c.method,
    headers,
    // As bytes, so fetch adds no content type of its own; `\xff` goes out as that single byte.
    body: c.body === undefined ? undefined : Buffer.from(c.body, c.body.includes('\xff') ? 'latin1' : 'utf8'),
    redirect: 'manual',
  });
  return { status: res.status, text: await res.text() };
}

/** Runs cases, collecting every mismatch so one failure report lists them all. */
async function runCases(cases: Case[]) {
  const failures: string[] = [];
  for (const c of cases) {
    const before = await dbState();
    const { status, text } = await send(c);
    const after = await dbState();
    if (status === 500 || status !== c.status) failures.push(`${c.name}: ${status} ${text.slice(0, 200)}`);
    else if (c.code) {
      let body: { error?: { code?: unknown; message?: unknown } } = {};
      try {
        body = JSON.parse(text);
      } catch {}
      if (body.error?.code !== c.code || typeof body.error.message !== 'string' || !body.error.message)
        failures.push(`${c.name}: error body ${text.slice(0, 200)}`);
    }
    if (before !== after) failures.push(`${c.name}: the database changed\n  ${before}\n  ${after}`);
  }
  assert.deepEqual(failures, []);
}

describe('hostile input on every JSON API route', () => {
  test('every route on disk is known to this suite', () => {
    assert.ok(routes.length > 15);
    const unknown = routes.filter((r) => !r.profile).map((r) => r.pattern);
    assert.deepEqual(unknown, [], 'add a profile for each new route');
  });

  const all = [
    ...tested.flatMap((r) => [
      ...pathCases(r),
      ...queryCases(r),
      ...bodyCases(r),
      ...methodCases(r),
      ...authCases(r),
    ]),
    ...metricsCases,
  ];

  test(`the cases exceed 120 (${all.length})`, () => {
    assert.ok(all.length > 120, String(all.length));
  });

  test('valid requests work, so the refusals below are about the input', async () => {
    for (const r of tested) {
      if (!r.methods.includes('GET')) continue;
      const headers: Record<string, string> = r.profile.person
        ? { cookie }
        : { authorization: `Bearer ${TOKEN}` };
      const res = await fetch(`${app.url}${at(r, r.profile.slug ? 'skylightchat' : '1')}`, { headers });
      assert.equal(res.status, r.profile.sandboxOnly ? 404 : 200, `${r.pattern}: ${await res.text()}`);
    }
    const m = await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(m.status, 200);
    assert.doesNotMatch(await m.text(), /nodejs_version_info/);
  });

  test('malformed percent-encoding in a path segment: 400, never 500, also unauthenticated and on pages', async () => {
    const anon: Array<[string, number]> = [
      ['/api/deliveries/%ff', 400],
      ['/api/dlq/%ff/retry', 400],
      ['/api/nothing/%ff', 400],
      ['/deliveries/%ff', 400],
      ['/dlq/%e0%a4', 400],
      ['/%ff', 400],
    ];
    for (const [p, status] of anon) {
      for (const [method, headers] of [
        ['GET', {}],
        ['POST', {}],
        ['GET', { cookie }],
        ['POST', { cookie }],
      ] as const) {
        const res = await fetch(`${app.url}${p}`, { method, headers, redirect: 'manual' });
        const text = await res.text();
        assert.equal(res.status, status, `${method} ${p}: ${res.status} ${text}`);
        if (p.startsWith('/api/')) assert.equal(JSON.parse(text).error.code, 'bad_request');
      }
    }
  });

  test('the hostile cases: the stated 4xx with the error shape, and the database unchanged', async () => {
    await runCases(all);
  });

  test('a state-changing request with a session cookie and a foreign Origin: 403, nothing changes', async () => {
    const cases: Case[] = tested.flatMap((r) =>
      r.methods
        .filter((m) => m !== 'GET')
        .flatMap((method) =>
          ['http://evil.example', 'null', app.url.replace('127.0.0.1', 'localhost')].map((origin) => ({
            name: `${method} ${r.pattern} Origin ${origin}`,
            method,
            path: at(r, '2'),
            headers: { cookie, origin, authorization: '', ...json },
            body: r.profile.body === 'webhook-patch' ? '{"is_active":false}' : '{}',
            status: 403,
            code: 'forbidden',
          })),
        ),
    );
    assert.ok(cases.length >= 18, String(cases.length));
    await runCases(cases);
  });
});

/** Peak resident memory of this process (it serves the app) while `run` runs, in MiB over the start. */
async function rssGrowthMiB(run: () => Promise<void>): Promise<number> {
  global.gc?.();
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  return (Math.max(peak, process.memoryUsage.rss()) - start) / 2 ** 20;
}

/**
 * Writes a request head, then body bytes as fast as the server takes them, up to `offerBytes`, and
 * keeps writing for a second after the answer (a client that does not listen) unless the server
 * closes first. Resolves with the status, when it arrived, and how much the server took.
 */
function offerBody(
  port: number,
  head: string,
  offerBytes: number,
  chunked: boolean,
): Promise<{ status: number | null; sent: number; ms: number | null }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const sock = net.connect(port, '127.0.0.1');
    let answer = '';
    let answeredMs: number | null = null;
    let sent = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      sock.destroy();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      resolve({ status: m ? Number(m[1]) : null, sent, ms: answeredMs });
    };
    sock.on('data', (d) => {
      answer += d.toString('latin1');
      if (answeredMs === null && answer.includes('\r\n\r\n')) {
        answeredMs = performance.now() - started;
        // Keep offering for another second: whatever the server still takes must cost it nothing.
        setTimeout(finish, 1000);
      }
    });
    sock.on('error', finish);
    sock.on('close', finish);
    sock.setTimeout(20_000, finish);
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const framed = chunked
      ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])
      : chunk;
    const pump = () => {
      while (!done && sent < offerBytes) {
        sent += chunk.length;
        if (!sock.write(framed)) return void sock.once('drain', pump);
      }
      // Everything offered was taken: wait briefly for the answer, then give up on the request.
      if (!done) setTimeout(finish, 1000);
    };
    sock.once('connect', () => {
      sock.write(head);
      pump();
    });
  });
}

describe('request bodies are bounded while reading', () => {
  const auth = () => `Authorization: Bearer ${TOKEN}\r\n`;
  const headFor = (method: string, p: string, framing: string, extra = '') =>
    `${method} ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}Content-Type: application/json\r\n${framing}\r\n`;
  const bodyRoutes: Array<[string, string, string]> = [
    ['POST', '/api/dlq/retry', ''],
    ['PATCH', '/api/provider/webhooks/1', ''],
    ['POST', '/api/auth/login', ''],
    ['POST', '/api/dlq/2/retry', ''],
  ];

  test('a declared Content-Length over the limit: 413 at once, before a body byte is read', async () => {
    for (const [method, p] of bodyRoutes) {
      const before = await dbState();
      const r = await offerBody(
        Number(new URL(app.url).port),
        headFor(method, p, 'Content-Length: 400000000\r\n', p.includes('login') ? '' : auth()),
        0,
        false,
      );
      assert.equal(r.status, 413, `${method} ${p}`);
      assert.ok(r.ms !== null && r.ms < 2000, `${method} ${p} took ${r.ms} ms`);
      assert.equal(await dbState(), before);
    }
  });

  test('a chunked body that keeps coming: 413 soon after the limit, memory does not grow with it', async (t) => {
    const port = Number(new URL(app.url).port);
    for (const [method, p] of bodyRoutes.slice(0, 3)) {
      const before = await dbState();
      let r = { status: null as number | null, sent: 0, ms: null as number | null };
      const grewMiB = await rssGrowthMiB(async () => {
        r = await offerBody(
          port,
          headFor(method, p, 'Transfer-Encoding: chunked\r\n', p.includes('login') ? '' : auth()),
          128 * 2 ** 20,
          true,
        );
      });
      t.diagnostic(
        `${method} ${p}: 413 after ${r.ms?.toFixed(0)} ms; the server took ${(r.sent / 2 ** 20).toFixed(1)} MiB; RSS grew ${grewMiB.toFixed(1)} MiB`,
      );
      assert.equal(r.status, 413, `${method} ${p}: ${JSON.stringify(r)}`);
      assert.ok(r.ms !== null && r.ms < 3000, `${method} ${p} answered after ${r.ms} ms`);
      assert.ok(
        grewMiB < 64,
        `${method} ${p}: memory grew ${grewMiB.toFixed(0)} MiB for ${r.sent} bytes offered`,
      );
      assert.equal(await dbState(), before);
    }
  });
});
