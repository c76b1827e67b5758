import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { auditLog, sourceSecrets, sources } from '@/db/schema';
import type { AppError } from '@/lib/errors';
import { SecretBox } from '@/lib/sources/crypto';
import { SourceDirectory } from '@/lib/sources/directory';
import { addSecret, retireSecret } from '@/lib/sources/secrets';
import { createSource, listSources, patchSource, type SourceDeps } from '@/lib/sources/service';
import { openTestDb, type TestDb } from './helpers/db';

const who = { actor: 'test', ip: null };
const SECRET = 'whsec_orders_secret_0123456789abcdef';

let h: TestDb;
let deps: SourceDeps;
before(async () => {
  h = await openTestDb();
  const box = new SecretBox(randomBytes(32));
  const db = async () => h.db;
  deps = { db, box, directory: new SourceDirectory({ db, box, builtIn: new Map() }) };
});
after(() => h.close());

describe('sources', () => {
  test('created with its secrets sealed: the API view and the table hold no secret value', async () => {
    const view = await createSource(
      deps,
      { slug: 'orders', provider: 'sly', enabled: true, secrets: [{ value: SECRET }] },
      who,
    );
    assert.equal(view.slug, 'orders');
    assert.equal(view.provider, 'sly');
    assert.equal(view.provider_label, 'Sly');
    assert.equal(view.path, '/api/webhooks/orders');
    assert.equal(view.secrets.length, 1);
    assert.equal(view.secrets[0]!.last4, 'cdef');
    assert.doesNotMatch(JSON.stringify(view), /orders_secret/);
    assert.doesNotMatch(JSON.stringify(await listSources(deps)), /orders_secret/);
    const [stored] = await h.db.select().from(sourceSecrets).where(eq(sourceSecrets.source, 'orders'));
    assert.doesNotMatch(stored!.ciphertext, /orders_secret/);
    const audit = await h.db.select().from(auditLog).where(eq(auditLog.target, 'orders'));
    assert.deepEqual(
      audit.map((a) => a.action),
      ['source_create'],
    );
    assert.doesNotMatch(JSON.stringify(audit), /orders_secret/);
  });

  test('the directory resolves a stored source and opens its secrets; unknown slugs are null', async () => {
    const s = await deps.directory.resolve('orders');
    assert.equal(s?.provider, 'sly');
    assert.equal(s?.enabled, true);
    assert.deepEqual(
      (await s?.keyring())?.active.map((k) => k.value),
      [SECRET],
    );
    assert.equal(await deps.directory.resolve('nope'), null);
  });

  test('a second process sees a new source at once and a change within the cache TTL', async () => {
    const db = async () => h.db;
    const other = new SourceDirectory({ db, box: deps.box, builtIn: new Map(), ttlMs: 100, missTtlMs: 50 });
    assert.equal(await other.resolve('payments'), null);
    await createSource(
      deps,
      { slug: 'payments', provider: 'skylight', enabled: true, secrets: [{ value: SECRET }] },
      who,
    );
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(
      (await other.resolve('payments'))?.enabled,
      true,
      'a remembered miss expires after missTtlMs',
    );
    await patchSource(deps, 'payments', { enabled: false }, who);
    assert.equal((await deps.directory.resolve('payments'))?.enabled, false, 'this process: at once');
    await new Promise((r) => setTimeout(r, 110));
    assert.equal((await other.resolve('payments'))?.enabled, false, 'another process: after ttlMs');
  });

  test('replacing secrets: the old one no longer opens, the new one does', async () => {
    await patchSource(deps, 'orders', { secrets: [{ value: `${SECRET}-new`, label: 'rotated' }] }, who);
    const s = await deps.directory.resolve('orders');
    assert.deepEqual(
      (await s?.keyring())?.active.map((k) => k.value),
      [`${SECRET}-new`],
    );
    const rows = await h.db.select().from(sourceSecrets).where(eq(sourceSecrets.source, 'orders'));
    assert.deepEqual(
      rows.map((r) => r.label),
      ['rotated'],
    );
  });

  test('a default source whose variable is unset is off, even with the row its pasted secrets left', async () => {
    await h.db.insert(sources).values({ slug: 'sly', provider: 'sly', enabled: true });
    try {
      const dir = new SourceDirectory({ db: async () => h.db, box: deps.box, builtIn: new Map() });
      assert.equal(await dir.resolve('sly'), null, 'its path answers 404');
    } finally {
      await h.db.delete(sources).where(eq(sources.slug, 'sly'));
    }
  });

  test('a default source whose first secrets read fails refuses to guess (a retired environment secret stays retired)', async () => {
    let failing = true;
    const dir = new SourceDirectory({
      db: async () => {
        if (failing) throw new Error('sorry, too many clients already');
        return h.db;
      },
      box: deps.box,
      builtIn: new Map([
        [
          'sly',
          { slug: 'sly', provider: 'sly', seedLabel: 'SLY_WEBHOOK_SECRET', seeds: async () => [SECRET] },
        ],
      ]),
      ttlMs: 0,
    });
    const source = (await dir.resolve('sly'))!;
    await assert.rejects(source.keyring(), /too many clients/, 'no read yet: a 503, not the seeds alone');
    failing = false;
    assert.equal((await source.keyring()).active.length, 1);
    failing = true;
    assert.equal((await source.keyring()).active.length, 1, 'after a good read, the last one stands in');
  });

  test('refusals: default slugs, a taken slug, an unknown source; nothing written', async () => {
    const before = await h.db.select().from(sources);
    await assert.rejects(
      createSource(
        deps,
        { slug: 'skylightchat', provider: 'skylight', enabled: true, secrets: [{ value: SECRET }] },
        who,
      ),
      (err) =>
        (err as AppError).code === 'conflict' && /SKYLIGHT_WEBHOOK_SECRET/.test((err as Error).message),
    );
    await assert.rejects(
      createSource(
        deps,
        { slug: 'orders', provider: 'sly', enabled: true, secrets: [{ value: SECRET }] },
        who,
      ),
      (err) => (err as AppError).code === 'conflict',
    );
    await assert.rejects(
      patchSource(deps, 'sly', { enabled: false }, who),
      (err) => (err as AppError).code === 'conflict',
    );
    await assert.rejects(
      patchSource(deps, 'ghost', { enabled: false }, who),
      (err) => (err as AppError).code === 'not_found',
    );
    assert.deepEqual(await h.db.select().from(sources), before);
  });

  test('without an encryption key a secret is not stored, and says which variable to set', async () => {
    const db = async () => h.db;
    const keyless: SourceDeps = {
      db,
      box: null,
      directory: new SourceDirectory({ db, box: null, builtIn: new Map() }),
    };
    await assert.rejects(
      createSource(
        keyless,
        { slug: 'nokey', provider: 'sly', enabled: true, secrets: [{ value: SECRET }] },
        who,
      ),
      (err) =>
        (err as AppError).code === 'unavailable' && /SECRETS_ENCRYPTION_KEY/.test((err as Error).message),
    );
    assert.equal((await h.db.select().from(sources).where(eq(sources.slug, 'nokey'))).length, 0);
    // A stored source whose secrets cannot be opened fails loudly, not as "no secrets".
    await assert.rejects((await keyless.directory.resolve('orders'))!.keyring(), /SECRETS_ENCRYPTION_KEY/);
  });
});

describe('retiring the new secret of a rotation', () => {
  test('gives the previous one back its permanence: no overlap left to run out into an outage', async () => {
    const s = { ...deps, managementApi: () => null };
    await createSource(
      deps,
      { slug: 'undo', provider: 'sly', enabled: true, secrets: [{ value: `${SECRET}-a` }] },
      who,
    );
    const added = await addSecret(s, 'undo', { value: `${SECRET}-b`, overlapSeconds: 60 }, who);
    const fresh = added.secrets.find((x) => x.status === 'active')!;
    const previous = added.secrets.find((x) => x.status === 'expiring')!;
    const after = await retireSecret(s, 'undo', fresh.id!, who);
    assert.equal(after.secrets.find((x) => x.id === fresh.id)?.status, 'retired');
    assert.equal(after.secrets.find((x) => x.id === previous.id)?.status, 'active');
    const [row] = await h.db.select().from(sourceSecrets).where(eq(sourceSecrets.id, previous.id!));
    assert.equal(row?.expiresAt, null, 'stored without an expiry');
    const [audit] = await h.db
      .select({ detail: auditLog.detail })
      .from(auditLog)
      .where(eq(auditLog.action, 'secret_retire'));
    assert.deepEqual(audit?.detail, { secret_id: fresh.id, kept_without_expiry: previous.id });
  });
});
