import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { receipts, type SignatureDiagnosis } from '@/db/schema';
import { sign as slySign } from '@/lib/providers/sly/signature';
import { SecretBox } from '@/lib/sources/crypto';
import { rejectionCauses } from '@/lib/sources/rejections';
import { addSecret, retireSecret } from '@/lib/sources/secrets';
import { createSource } from '@/lib/sources/service';
import { post, signedDelivery } from './helpers/deliveries';
import { type ReceiverServer, startReceiverServer } from './helpers/receiver-server';

// Each cause a user can act on, from a request crafted to have it, asserted on the diagnosis stored
// with the refused receipt (worked out in the background: the answer is a plain 400 at once).

const CURRENT = 'test-fake-skylight-current-0001';
const RETIRED = 'test-fake-orders-retired-000001';
const ORDERS_NEW = 'test-fake-orders-current-000002';
const OTHER = 'test-fake-payments-secret-00003';
const SLY = 'test-fake-sly-default-secret-04';
const who = { actor: 'ops@example.test', ip: null };

let s: ReceiverServer;
let retiredId = 0;
before(async () => {
  const box = new SecretBox(randomBytes(32));
  s = await startReceiverServer({ secrets: [CURRENT], slySecrets: [SLY], box, worker: false });
  const deps = {
    db: async () => s.db.db,
    box,
    directory: s.sources,
    managementApi: () => null,
  };
  await createSource(
    deps,
    { slug: 'orders', provider: 'skylight', enabled: true, secrets: [{ value: RETIRED }] },
    who,
  );
  await createSource(
    deps,
    { slug: 'payments', provider: 'skylight', enabled: true, secrets: [{ value: OTHER }] },
    who,
  );
  const view = await addSecret(deps, 'orders', { value: ORDERS_NEW, overlapSeconds: 3600 }, who);
  retiredId = view.secrets.find((x) => x.last4 === RETIRED.slice(-4))!.id!;
  await retireSecret(deps, 'orders', retiredId, who);
});
after(() => s.close());

/** Posts, expects the 400, and reads the stored diagnosis of that receipt. */
async function diagnosed(
  url: string,
  body: string,
  headers: Record<string, string>,
  deliveryId: string,
): Promise<SignatureDiagnosis> {
  const r = await post(url, { body, headers });
  assert.equal(r.status, 400);
  await s.recorder.flush();
  const [row] = await s.db.db.select().from(receipts).where(eq(receipts.deliveryId, deliveryId));
  assert.ok(row, 'the refused delivery is recorded');
  assert.equal(row.outcome, 'rejected');
  assert.equal(row.secretId, null, 'a refused delivery names no matched secret');
  assert.ok(row.forensics, 'a diagnosis is stored with the receipt');
  assert.ok(row.forensics.hmacs <= 48, 'bounded work per request');
  return row.forensics;
}

const withSignature = (d: ReturnType<typeof signedDelivery>, value: string | null) => {
  const headers = { ...d.headers };
  if (value === null) delete headers['x-skylight-signature'];
  else headers['x-skylight-signature'] = value;
  return headers;
};
const hex = (secret: string, body: string, alg = 'sha256') =>
  createHmac(alg, secret).update(body).digest('hex');

describe('signature forensics', () => {
  test('no signature header', async () => {
    const d = signedDelivery(CURRENT);
    const f = await diagnosed(s.url, d.body, withSignature(d, null), d.deliveryId);
    assert.equal(f.cause, 'no_signature_header');
    assert.equal(f.presented, null);
    assert.equal(f.hmacs, 0);
  });

  const encodings: Array<[string, (body: string) => string, RegExp]> = [
    ['upper-case hex', (b) => `sha256=${hex(CURRENT, b).toUpperCase()}`, /upper-case hex/],
    ['base64', (b) => `sha256=${createHmac('sha256', CURRENT).update(b).digest('base64')}`, /base64/],
    ['sha1=', (b) => `sha1=${hex(CURRENT, b, 'sha1')}`, /sha1= instead of sha256=/],
    ['missing sha256=', (b) => hex(CURRENT, b), /missing the sha256= prefix/],
  ];
  for (const [name, signature, detail] of encodings) {
    test(`wrong scheme or encoding: ${name}`, async () => {
      const d = signedDelivery(CURRENT);
      const value = signature(d.body);
      const f = await diagnosed(s.url, d.body, withSignature(d, value), d.deliveryId);
      assert.equal(f.cause, 'wrong_encoding');
      assert.match(f.detail, detail);
      assert.equal(f.presented, value, 'the presented signature is kept as sent');
      assert.equal(f.secret?.last4, CURRENT.slice(-4));
    });
  }

  test('matches a retired secret of this source', async () => {
    const d = signedDelivery(RETIRED);
    const f = await diagnosed(`${s.baseUrl}/orders`, d.body, d.headers, d.deliveryId);
    assert.equal(f.cause, 'retired_secret');
    assert.equal(f.secret?.id, retiredId);
    assert.ok(f.secret?.expired_at, 'says when it was retired');
    assert.doesNotMatch(JSON.stringify(f), new RegExp(RETIRED), 'never the value');
  });

  test('matches a secret of another source (wrong URL configured)', async () => {
    const d = signedDelivery(OTHER);
    const f = await diagnosed(s.url, d.body, d.headers, d.deliveryId);
    assert.equal(f.cause, 'other_source_secret');
    assert.equal(f.other_source, 'payments');
  });

  test('matches with the whsec_ prefix added', async () => {
    const d = signedDelivery(`whsec_${CURRENT}`);
    const f = await diagnosed(s.url, d.body, d.headers, d.deliveryId);
    assert.equal(f.cause, 'whsec_prefix');
    assert.match(f.detail, /prefix added/);
  });

  const reserialised: Array<[string, (b: string) => string, RegExp]> = [
    ['pretty-printed by a proxy', (b) => JSON.stringify(JSON.parse(b), null, 2), /whitespace removed/],
    ['a trailing newline added', (b) => `${b}\n`, /trailing newline removed/],
    [
      'non-ASCII escaped',
      (b) => b.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
      /unicode escapes decoded/,
    ],
  ];
  for (const [name, mangle, variant] of reserialised) {
    test(`matches the body re-serialised: ${name}`, async () => {
      const d = signedDelivery(CURRENT, {
        data: { contact: { id: 7, name: 'Zoë Ångström', phone: '+15550000000', type: 'whatsapp' } },
      });
      const f = await diagnosed(s.url, mangle(d.body), d.headers, d.deliveryId);
      assert.equal(f.cause, 'body_reserialised');
      assert.match(f.variant ?? '', variant);
    });
  }

  test('matches the body re-serialised: keys re-ordered', async () => {
    const d = signedDelivery(CURRENT);
    const parsed = JSON.parse(d.body) as Record<string, unknown>;
    // The provider signed sorted keys; something on the way put them in another order.
    const sorted = JSON.stringify(
      Object.fromEntries(
        Object.keys(parsed)
          .sort()
          .map((k) => [k, parsed[k]]),
      ),
    );
    const shuffled = JSON.stringify(
      Object.fromEntries(
        Object.keys(parsed)
          .reverse()
          .map((k) => [k, parsed[k]]),
      ),
    );
    const headers = { ...d.headers, 'x-skylight-signature': `sha256=${hex(CURRENT, sorted)}` };
    const f = await diagnosed(s.url, shuffled, headers, d.deliveryId);
    assert.equal(f.cause, 'body_reserialised');
    assert.match(f.variant ?? '', /sorted/);
  });

  test('Sly: timestamp outside the tolerance, and by how much', async () => {
    const id = `evt_${randomUUID()}`;
    const body = JSON.stringify({
      id,
      type: 'transfer.completed',
      created_at: new Date().toISOString(),
      data: {},
    });
    const t = Math.floor(Date.now() / 1000) - 3600;
    const r = await post(`${s.baseUrl}/sly`, {
      body,
      headers: {
        'content-type': 'application/json',
        'x-sly-event-id': id,
        'x-sly-delivery-id': randomUUID(),
        'x-sly-signature': slySign(body, SLY, t),
      },
    });
    assert.equal(r.status, 400);
    await s.recorder.flush();
    const [row] = await s.db.db.select().from(receipts).where(eq(receipts.deliveryId, id));
    assert.equal(row?.reason, 'timestamp_stale');
    assert.equal(row?.forensics?.cause, 'timestamp_outside_tolerance');
    assert.ok(Math.abs((row?.forensics?.skew_s ?? 0) + 3600) <= 5, `skew ${row?.forensics?.skew_s}`);
    assert.match(row?.forensics?.detail ?? '', /3[56]\d\d s ago/);
  });

  test('otherwise: no known secret matches', async () => {
    const d = signedDelivery('test-fake-unknown-secret-00009');
    const f = await diagnosed(s.url, d.body, d.headers, d.deliveryId);
    assert.equal(f.cause, 'no_known_secret');
    assert.match(f.detail, /wrong or unknown secret/);
  });

  test('the breakdown of rejection causes counts what was stored, per source', async () => {
    const all = await rejectionCauses(s.db.db, { since: new Date(Date.now() - 3_600_000) });
    const count = (cause: string) => all.causes.find((c) => c.cause === cause)?.count ?? 0;
    assert.equal(count('wrong_encoding'), 4);
    assert.equal(count('body_reserialised'), 4);
    assert.equal(count('retired_secret'), 1);
    assert.match(all.summary, /^\d+ refused signatures: .*4 wrong scheme or encoding/);
    const orders = await rejectionCauses(s.db.db, { source: 'orders', since: new Date(0) });
    assert.deepEqual(
      orders.causes.map((c) => [c.cause, c.count]),
      [['retired_secret', 1]],
    );
  });
});

describe('forensics are bounded', () => {
  test('past the per-minute cap, refused signatures are stored as not analysed, still answered 400 at once', async () => {
    const box = new SecretBox(randomBytes(32));
    const capped = await startReceiverServer({
      secrets: [CURRENT],
      box,
      worker: false,
      forensicsLimits: { perMinute: 3, maxQueued: 16 },
      refusalLimits: {
        detailedPerClient: 100,
        rowsPerClient: 100,
        detailedTotal: 100,
        rowsTotal: 100,
        maxClients: 10,
      },
    });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) {
        const d = signedDelivery('test-fake-unknown-secret-00009');
        ids.push(d.deliveryId);
        assert.equal((await post(capped.url, d)).status, 400);
      }
      await capped.recorder.flush();
      const rows = await capped.db.db.select({ f: receipts.forensics }).from(receipts);
      const causes = rows.map((r) => r.f?.cause).sort();
      assert.deepEqual(
        causes,
        [...Array(3).fill('no_known_secret'), ...Array(5).fill('not_analysed')].sort(),
      );
    } finally {
      await capped.close();
    }
  });
});
