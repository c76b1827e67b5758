import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { pruneOld } from '@/db/queries/maintenance';
import { events, receipts } from '@/db/schema';
import { metrics } from '@/lib/observability/metrics';
import { longestRetryWindowMs } from '@/lib/providers/registry';
import { SlySandboxSender } from '@/lib/providers/sly/sandbox';
import { sign } from '@/lib/providers/sly/signature';
import { SecretBox } from '@/lib/sources/crypto';
import { createSource, patchSource } from '@/lib/sources/service';
import { post, signedDelivery } from './helpers/deliveries';
import { type ReceiverServer, startReceiverServer } from './helpers/receiver-server';

const SKYLIGHT_SECRET = 'whsec_skylight_test_secret_0123456789abcdef0123456789abcdef01234567';
const SLY_SECRET = 'whsec_sly_current_0123456789abcdef';
const SLY_OLD = 'whsec_sly_previous_0123456789abcdef';
const STORED_SECRET = 'whsec_sly_stored_source_0123456789';
const who = { actor: 'test', ip: null };

let s: ReceiverServer;
let box: SecretBox;
before(async () => {
  box = new SecretBox(randomBytes(32));
  s = await startReceiverServer({
    secrets: [SKYLIGHT_SECRET],
    slySecrets: [SLY_SECRET, SLY_OLD],
    box,
    worker: { pollMs: 20 },
  });
});
after(() => s.close());

const slyUrl = () => `${s.baseUrl}/sly`;
const now = () => Math.floor(Date.now() / 1000);

function slyDelivery(
  opts: { id?: string; type?: string; secret?: string | string[]; t?: number; attempt?: string } = {},
) {
  const id = opts.id ?? `evt_${randomUUID()}`;
  const body = JSON.stringify({
    id,
    type: opts.type ?? 'transfer.completed',
    created_at: new Date().toISOString(),
    data: { transfer_id: `tx_${randomUUID()}`, amount: '42.00', currency: 'USDC' },
  });
  const attempt = opts.attempt ?? `del_${randomUUID()}`;
  return {
    id,
    attempt,
    body,
    headers: {
      'content-type': 'application/json',
      'x-sly-signature': sign(body, opts.secret ?? SLY_SECRET, opts.t ?? now()),
      'x-sly-event-id': id,
      'x-sly-delivery-id': attempt,
    } as Record<string, string>,
  };
}

async function receiptsOf(source: string, deliveryId: string) {
  await s.recorder.flush();
  return s.db.db
    .select()
    .from(receipts)
    .where(and(eq(receipts.source, source), eq(receipts.deliveryId, deliveryId)))
    .orderBy(receipts.id);
}
async function eventsOf(source: string, deliveryId: string) {
  return s.db.db
    .select()
    .from(events)
    .where(and(eq(events.source, source), eq(events.deliveryId, deliveryId)));
}
async function until(what: string, check: () => Promise<boolean>) {
  const end = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('Sly signature over HTTP', () => {
  test('valid: 200, receipt and event on source sly, the attempt id kept, the signature redacted', async () => {
    const d = slyDelivery();
    const r = await post(slyUrl(), d);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { received: true, duplicate: false });
    const [rec] = await receiptsOf('sly', d.id);
    assert.equal(rec?.outcome, 'accepted');
    assert.equal(rec?.provider, 'sly');
    assert.equal(rec?.attemptId, d.attempt);
    assert.equal(rec?.headers['x-sly-signature'], '[redacted]');
    assert.equal(rec?.headers['x-sly-event-id'], d.id);
    const [ev] = await eventsOf('sly', d.id);
    assert.equal(ev?.provider, 'sly');
    assert.equal(ev?.fingerprint, null, 'stable ids: no content fingerprint');
    assert.equal(rec?.eventId, ev?.id);
    await until('processed', async () => (await eventsOf('sly', d.id))[0]?.status === 'processed');
  });

  test('several v1 values (old and new secret during a rotation overlap): accepted', async () => {
    const d = slyDelivery({ secret: ['whsec_unknown_to_us_0123456789', SLY_SECRET] });
    assert.equal((await post(slyUrl(), d)).status, 200);
  });

  test('rotated list: a delivery signed with the previous secret still in the list is accepted', async () => {
    const d = slyDelivery({ secret: SLY_OLD });
    assert.equal((await post(slyUrl(), d)).status, 200);
    assert.equal((await receiptsOf('sly', d.id))[0]?.outcome, 'accepted');
  });

  const refused: Array<[string, (d: ReturnType<typeof slyDelivery>) => void, string]> = [
    [
      'stale t (6 minutes old)',
      (d) => (d.headers['x-sly-signature'] = sign(d.body, SLY_SECRET, now() - 360)),
      'timestamp_stale',
    ],
    [
      'future t (6 minutes ahead)',
      (d) => (d.headers['x-sly-signature'] = sign(d.body, SLY_SECRET, now() + 360)),
      'timestamp_future',
    ],
    [
      'missing t',
      (d) => (d.headers['x-sly-signature'] = d.headers['x-sly-signature']!.replace(/^t=\d+,/, '')),
      'timestamp_missing',
    ],
    ['tampered body', (d) => (d.body = d.body.replace('42.00', '4200.00')), 'signature_mismatch'],
    [
      'wrong secret',
      (d) => (d.headers['x-sly-signature'] = sign(d.body, 'whsec_not_ours_0123456789', now())),
      'signature_mismatch',
    ],
    ['missing header', (d) => delete d.headers['x-sly-signature'], 'signature_missing'],
    [
      'SkyLight-style header',
      (d) => (d.headers['x-sly-signature'] = `sha256=${'a'.repeat(64)}`),
      'signature_malformed',
    ],
  ];
  for (const [name, mutate, reason] of refused) {
    test(`${name}: 400 ${reason}, recorded as rejected, nothing queued`, async () => {
      const d = slyDelivery();
      mutate(d);
      const r = await post(slyUrl(), d);
      assert.equal(r.status, 400);
      assert.equal((r.json as { error: { code: string } }).error.code, 'bad_request');
      const [rec] = await receiptsOf('sly', d.id);
      assert.equal(rec?.outcome, 'rejected');
      assert.equal(rec?.reason, reason);
      assert.equal(rec?.httpStatus, 400);
      assert.equal((await eventsOf('sly', d.id)).length, 0);
    });
  }
});

describe('signed Sly bodies we cannot store: 200 malformed, recorded, nothing queued', () => {
  const cases: Array<[string, (id: string) => string, string]> = [
    [
      "nested 5,000 levels deep (8 KB that would exhaust the serialiser's stack)",
      (id) =>
        `{"id":"${id}","type":"transfer.completed","data":{"a":${'['.repeat(5000)}${']'.repeat(5000)}}}`,
      'body: nested deeper than 64 levels',
    ],
    [
      'created_at in year 0 (JavaScript parses it, Postgres takes no such time)',
      (id) =>
        JSON.stringify({ id, type: 'transfer.completed', created_at: '0000-01-01T00:00:00Z', data: {} }),
      'created_at: not an ISO 8601 time or Unix seconds',
    ],
  ];
  for (const [name, bodyOf, reason] of cases) {
    test(name, async () => {
      const id = `evt_${randomUUID()}`;
      const body = bodyOf(id);
      const r = await post(slyUrl(), {
        body,
        headers: { 'content-type': 'application/json', 'x-sly-signature': sign(body, SLY_SECRET, now()) },
      });
      assert.equal(r.status, 200);
      const recs = await receiptsOf('sly', id);
      assert.equal(recs.length, 1);
      assert.equal(recs[0]!.outcome, 'malformed');
      assert.equal(recs[0]!.reason, reason);
      assert.equal(recs[0]!.body, body, 'the bytes are kept for the operator');
      assert.equal((await eventsOf('sly', id)).length, 0);
    });
  }
});

describe('dedupe per source', () => {
  test('the same Sly event with a new delivery id is a duplicate: one event, one receipt per attempt', async () => {
    const first = slyDelivery();
    const retry = slyDelivery({ id: first.id });
    retry.body = first.body;
    retry.headers['x-sly-signature'] = sign(first.body, SLY_SECRET, now());
    assert.deepEqual((await post(slyUrl(), first)).json, { received: true, duplicate: false });
    assert.deepEqual((await post(slyUrl(), retry)).json, { received: true, duplicate: true });
    const recs = await receiptsOf('sly', first.id);
    assert.deepEqual(
      recs.map((r) => [r.outcome, r.reason, r.attemptId]),
      [
        ['accepted', null, first.attempt],
        ['duplicate', 'delivery_id', retry.attempt],
      ],
    );
    assert.equal((await eventsOf('sly', first.id)).length, 1);
  });

  test('RETENTION_DAYS=1: a Sly retry two days later is still a duplicate (events outlive its 72 h of retries)', async () => {
    const late = slyDelivery();
    const gone = slyDelivery();
    for (const d of [late, gone]) await post(slyUrl(), d);
    await until('both processed', async () =>
      (await Promise.all([late, gone].map((d) => eventsOf('sly', d.id)))).every(
        (e) => e[0]?.status === 'processed',
      ),
    );
    const age = (id: string, days: number) =>
      s.db.db
        .update(events)
        .set({ createdAt: new Date(Date.now() - days * 86_400_000) })
        .where(and(eq(events.source, 'sly'), eq(events.deliveryId, id)));
    await age(late.id, 2);
    await age(gone.id, 4);
    assert.ok(longestRetryWindowMs() >= 72 * 3_600_000, "Sly's window is the longest");
    await pruneOld(s.db.db, 1, { eventsMinHours: longestRetryWindowMs() / 3_600_000 });
    assert.equal((await eventsOf('sly', gone.id)).length, 0, 'past every retry window: pruned');
    assert.equal((await eventsOf('sly', late.id)).length, 1, 'within Sly retries: kept');

    const retry = slyDelivery({ id: late.id });
    retry.body = late.body;
    retry.headers['x-sly-signature'] = sign(late.body, SLY_SECRET, now());
    assert.deepEqual((await post(slyUrl(), retry)).json, { received: true, duplicate: true });
    assert.equal((await eventsOf('sly', late.id)).length, 1, 'not queued a second time');
  });

  test('a body without an id, sent again under another X-Sly-Event-Id, is a duplicate by its signed bytes', async () => {
    const body = JSON.stringify({
      type: 'transfer.completed',
      created_at: new Date().toISOString(),
      data: { transfer_id: `tx_${randomUUID()}`, amount: '1.00', currency: 'USDC' },
    });
    const send = (eventId: string) =>
      post(slyUrl(), {
        body,
        headers: {
          'content-type': 'application/json',
          'x-sly-signature': sign(body, SLY_SECRET, now()),
          'x-sly-event-id': eventId,
          'x-sly-delivery-id': `del_${randomUUID()}`,
        },
      });
    const first = `evt_${randomUUID()}`;
    const replayed = `evt_${randomUUID()}`;
    assert.deepEqual((await send(first)).json, { received: true, duplicate: false });
    assert.deepEqual((await send(replayed)).json, { received: true, duplicate: true });
    const [again] = await receiptsOf('sly', replayed);
    assert.deepEqual([again?.outcome, again?.reason], ['duplicate', 'fingerprint']);
    assert.equal((await eventsOf('sly', replayed)).length, 0);
    assert.equal((await eventsOf('sly', first)).length, 1);
  });

  test('a SkyLight delivery and a Sly event with the same id string are both accepted', async () => {
    const shared = `shared-${randomUUID()}`;
    const sky = signedDelivery(SKYLIGHT_SECRET, { deliveryId: shared });
    const sly = slyDelivery({ id: shared });
    assert.deepEqual((await post(s.url, sky)).json, { received: true, duplicate: false });
    assert.deepEqual((await post(slyUrl(), sly)).json, { received: true, duplicate: false });
    const [skyEvent] = await eventsOf('skylightchat', shared);
    const [slyEvent] = await eventsOf('sly', shared);
    assert.equal(skyEvent?.provider, 'skylight');
    assert.equal(slyEvent?.provider, 'sly');
    assert.notEqual(skyEvent?.id, slyEvent?.id);
  });

  test('the sandbox sender: duplicates keep the event id and get a new delivery id each time', async () => {
    const sender = new SlySandboxSender({ url: slyUrl(), secret: SLY_SECRET });
    const sent = await sender.send(
      { type: 'settlement.completed', data: { payoutId: 'payout_1' } },
      { duplicates: 2 },
    );
    assert.deepEqual(
      sent.attempts.map((a) => a.status),
      [200, 200, 200],
    );
    assert.equal(new Set(sent.attempts.map((a) => a.attemptId)).size, 3);
    const recs = await receiptsOf('sly', sent.dedupeId);
    assert.deepEqual(
      recs.map((r) => r.outcome),
      ['accepted', 'duplicate', 'duplicate'],
    );
    assert.deepEqual(
      recs.map((r) => r.attemptId),
      sent.attempts.map((a) => a.attemptId),
    );
    assert.equal((await eventsOf('sly', sent.dedupeId)).length, 1);
  });
});

describe('sources', () => {
  test('an unknown slug: 404, recorded as rejected under that slug, body unread', async () => {
    const d = slyDelivery();
    const r = await post(`${s.baseUrl}/no-such-source`, d);
    assert.equal(r.status, 404);
    assert.equal((r.json as { error: { code: string } }).error.code, 'not_found');
    await s.recorder.flush();
    const [rec] = await s.db.db.select().from(receipts).where(eq(receipts.source, 'no-such-source'));
    assert.equal(rec?.outcome, 'rejected');
    assert.equal(rec?.reason, 'unknown_source');
    assert.equal(rec?.httpStatus, 404);
    assert.equal(rec?.provider, null);
  });

  test('a source created through the API receives at once; disabled it answers 410 and records it', async () => {
    const deps = { db: async () => s.db.db, box, directory: s.sources };
    await createSource(
      deps,
      { slug: 'payments', provider: 'sly', enabled: true, secrets: [{ value: STORED_SECRET }] },
      who,
    );
    const d = slyDelivery({ secret: STORED_SECRET });
    assert.equal((await post(`${s.baseUrl}/payments`, d)).status, 200);
    assert.equal((await eventsOf('payments', d.id))[0]?.provider, 'sly');
    // Signed for the default Sly source: another source's secret does not open this one.
    assert.equal((await post(`${s.baseUrl}/payments`, slyDelivery())).status, 400);

    await patchSource(deps, 'payments', { enabled: false }, who);
    const off = slyDelivery({ secret: STORED_SECRET });
    const r = await post(`${s.baseUrl}/payments`, off);
    assert.equal(r.status, 410);
    assert.equal((r.json as { error: { code: string } }).error.code, 'gone');
    const [rec] = await receiptsOf('payments', off.id);
    assert.equal(rec?.outcome, 'rejected');
    assert.equal(rec?.reason, 'source_disabled');
    assert.equal(rec?.provider, 'sly');
    assert.equal((await eventsOf('payments', off.id)).length, 0);
  });

  test('webhook.dlq is accepted and processed as a provider notice', async () => {
    const d = slyDelivery({ type: 'webhook.dlq' });
    assert.equal((await post(slyUrl(), d)).status, 200);
    await until('processed', async () => (await eventsOf('sly', d.id))[0]?.status === 'processed');
  });
});

describe('metrics carry the provider and source', () => {
  test('Prometheus counts a Sly delivery under provider sly; an unknown slug under a fixed label; rollup cells per source', async () => {
    const d = slyDelivery();
    assert.equal((await post(slyUrl(), d)).status, 200);
    assert.equal(
      (await post(`${s.baseUrl}/no-such-source-${randomUUID().slice(0, 8)}`, { body: '{}', headers: {} }))
        .status,
      404,
    );
    const text = await metrics.registry.getSingleMetricAsString('skylight_receipts_total');
    assert.match(text, /provider="sly",source="sly",outcome="accepted",event_type="transfer.completed"/);
    assert.match(text, /provider="none",source="\(unknown\)",outcome="rejected"/);
    assert.doesNotMatch(text, /no-such-source/);
    const cells = s.rollups.take();
    assert.ok(cells.some((c) => c.source === 'sly' && c.eventType === 'transfer.completed'));
    assert.ok(cells.some((c) => c.source === '' && c.outcome === 'rejected'));
    assert.ok(cells.every((c) => !c.source.startsWith('no-such-source')));
  });
});
