import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Db } from '@/db/client';
import { sign } from '@/lib/providers/skylight/signature';
import { createReceiverStack } from '@/lib/receiver/stack';
import { fromWebRequest } from '@/lib/receiver/web-request';
import { SourceDirectory } from '@/lib/sources/directory';

// A database that takes connections and never answers (a full pool, a network partition): a delivery
// must get a quick 503 to retry, not wait until the provider's own 30 s timeout.

test('a source lookup or secrets load that does not answer is a 503 within the lookup deadline', async () => {
  const hang = () => new Promise<Db>(() => {});
  const sources = new SourceDirectory({
    db: hang,
    box: null,
    builtIn: new Map([
      [
        'skylightchat',
        { slug: 'skylightchat', provider: 'skylight', seedLabel: 'T', seeds: async () => ['s3cret'] },
      ],
    ]),
  });
  const stack = createReceiverStack({
    db: hang,
    sources,
    maxBodyBytes: 1_048_576,
    maxAgeMs: 72 * 3_600_000,
    maxInFlight: 1,
    lookupDeadlineMs: 200,
  });
  const body = JSON.stringify({ event: 'contact.created', delivery_id: 'd-1', timestamp: 1, data: {} });
  const request = () =>
    fromWebRequest(
      new Request('http://x/api/webhooks/s', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-skylight-signature': sign(body, 's3cret') },
        body,
      }),
      performance.now(),
    );
  for (const slug of ['a-stored-source', 'skylightchat']) {
    const started = performance.now();
    const r = await stack.handle(slug, request());
    const ms = performance.now() - started;
    assert.equal(r.status, 503, slug);
    assert.ok(ms < 1500, `${slug}: answered in ${Math.round(ms)} ms`);
    assert.ok(r.headers?.['Retry-After'], `${slug}: Retry-After`);
  }
});

test('a slug no source could have is unknown without a database read', async () => {
  let reads = 0;
  const db = () => {
    reads++;
    return new Promise<Db>(() => {});
  };
  const sources = new SourceDirectory({ db, box: null, builtIn: new Map() });
  const stack = createReceiverStack({
    db,
    sources,
    maxBodyBytes: 1_048_576,
    maxAgeMs: 72 * 3_600_000,
    maxInFlight: 1,
    lookupDeadlineMs: 200,
  });
  for (const slug of ['Orders', 'orders-', 'a'.repeat(49), 'ord%20ers']) {
    const r = await stack.handle(
      slug,
      fromWebRequest(new Request('http://x/', { method: 'POST', body: '{}' }), performance.now()),
    );
    assert.equal(r.status, 404, slug);
  }
  assert.equal(reads, 0, 'no lookup, no cache entry');
});
