import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rowsOf } from '@/db/client';
import { ingestBatch } from '@/db/queries/ingest';
import { startBackgroundJobs } from '@/lib/jobs';
import { RollupBuffer } from '@/lib/metrics/rollup-buffer';
import { metrics } from '@/lib/observability/metrics';
import { openTestDb, type TestDb } from './helpers/db';

let db: TestDb;
before(async () => {
  db = await openTestDb();
});
after(() => db.close());

/** Runs counted by skylight_job_seconds for `job`. */
async function runsOf(job: string) {
  const { values } = await metrics.jobSeconds.get();
  return (
    values.find((v) => v.metricName === 'skylight_job_seconds_count' && v.labels.job === job)?.value ?? 0
  );
}

test('background jobs run on the database they are given, and each run is timed by job on /metrics', async () => {
  const [r] = await ingestBatch(db.db, [
    {
      receipt: {
        source: 'skylightchat',
        provider: 'skylight',
        deliveryId: 'job-1',
        eventType: 'contact.updated',
        outcome: 'accepted',
        reason: null,
        ackMs: 1,
        receivedAt: new Date(),
        headers: {},
        body: '{"needle":"jobs-test"}',
        bodyBytes: 22,
      },
    },
  ]);
  const copies = async () =>
    rowsOf<{ n: number }>(await db.db.execute(sql`select count(*)::int as n from receipt_search`))[0]!.n;
  const indexed = async () => (await metrics.searchIndexed.get()).values[0]?.value ?? 0;
  const before = {
    search: await runsOf('search-index'),
    rollups: await runsOf('rollups'),
    copies: await copies(),
    indexed: await indexed(),
  };
  // Only jobs that need nothing but the database: the others reach for the app's runtime (sources,
  // the provider's API), which would open a database of its own.
  const stop = startBackgroundJobs(async () => db.db, new RollupBuffer(), ['search-index', 'rollups']);
  try {
    const until = Date.now() + 10_000;
    const ran = async () =>
      (await runsOf('search-index')) > before.search && (await runsOf('rollups')) > before.rollups;
    while (!(await ran()) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  } finally {
    await stop();
  }
  assert.ok((await runsOf('search-index')) > before.search, 'the search-index run was timed');
  assert.ok((await runsOf('rollups')) > before.rollups, 'the rollups run was timed');
  // The run was real: the receipt's body got its search copy.
  const [copy] = rowsOf<{ n: number }>(
    await db.db.execute(
      sql`select count(*)::int as n from receipt_search where receipt_id = ${r!.receiptId}`,
    ),
  );
  assert.equal(copy!.n, 1);
  // The counter a scraper (and the pipeline bench) reads the index's progress from counts each copy once.
  assert.equal((await indexed()) - before.indexed, (await copies()) - before.copies);
  assert.ok((await indexed()) > before.indexed);
  const text = await metrics.registry.getSingleMetricAsString('skylight_job_seconds');
  assert.match(text, /skylight_job_seconds_bucket\{le="[^"]+",job="search-index"\}/);
});

test('a stop does not wait past its grace for a job stuck in the database', async () => {
  // The database as a lock that is never granted: every statement waits.
  let started = 0;
  const stuck = new Proxy(db.db, {
    get(target, key, receiver) {
      if (key === 'execute')
        return () => {
          started++;
          return new Promise(() => {});
        };
      return Reflect.get(target, key, receiver);
    },
  });
  const stop = startBackgroundJobs(async () => stuck, new RollupBuffer(), ['search-index'], 300);
  const until = Date.now() + 5_000;
  while (started === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.ok(started > 0, 'the job is in its statement');
  const t0 = Date.now();
  await stop();
  assert.ok(Date.now() - t0 < 2_000, `stopped in ${Date.now() - t0} ms`);
});
