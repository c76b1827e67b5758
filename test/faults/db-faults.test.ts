import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import postgres from 'postgres';
import type { Sandbox } from '@/lib/providers/skylight/sandbox/server';
import type { Webhook } from '@/lib/providers/skylight/sandbox/store';
import { type AppProcess, delay, ensureAppBuilt, startApp, until } from '../helpers/app-process';
import { ADMIN_URL } from '../helpers/scratch-pg';
import {
  deliveryLog,
  emitPaced,
  FULL,
  ledger,
  ledgerProblems,
  providerEnv,
  queueDrained,
  report,
  sandboxIdle,
  skipReason,
  startProvider,
  takeTurn,
} from './harness';

// Database faults that are not outages, under load (issue 13 A): a SHARE lock on the inbox (what
// CREATE INDEX or a migration takes), the same lock held past two statement timeouts, the server
// refusing new connections (SQLSTATE 53300, a role connection limit), and a failing side table (a
// trigger on fingerprints). Every one must be answered 503 (the provider retries), never 200
// without an inbox row, never 500; after the faults clear, everything lands exactly once.

const APP_PORT = 4560;
const SANDBOX_PORT = 4561;
const RATE = FULL ? 150 : 60;
/** 2/10/30 min become 3/15/45 s: a delivery refused through a 20 s fault still has two retries left. */
const TIME_SCALE = 40;
const FAULT_S = FULL ? 12 : 6;
const LONG_LOCK_S = 35;

const skip = await skipReason({ postgres: true });

type Fault = { name: string; seconds: number; inject: () => Promise<() => Promise<void>> };

describe('database faults under load', { skip }, () => {
  let admin: postgres.Sql;
  let sql: postgres.Sql;
  let dbUrl: string;
  let role: string;
  let dbName: string;
  let sandbox: Sandbox;
  let webhook: Webhook;
  let app: AppProcess | null = null;
  let release = () => {};

  before(
    async () => {
      release = await takeTurn('db-faults');
      await ensureAppBuilt();
      // A role of its own, not a superuser: connection limits do not apply to superusers.
      const tag = Math.random().toString(36).slice(2, 10);
      role = `faults_app_${tag}`;
      dbName = `faults_${tag}`;
      admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
      await admin.unsafe(`create role ${role} login`);
      await admin.unsafe(`create database ${dbName} owner ${role}`);
      const u = new URL(ADMIN_URL);
      u.pathname = `/${dbName}`;
      dbUrl = u.toString();
      sql = postgres(dbUrl, { max: 4, onnotice: () => {} });
      u.username = role;
      ({ sandbox, webhook } = await startProvider({
        port: SANDBOX_PORT,
        appPort: APP_PORT,
        knobs: { duplicates: 0.05, failures: 0.05, timeScale: TIME_SCALE, idMode: 'stable', shape: 'A' },
      }));
      app = await startApp({ port: APP_PORT, env: providerEnv({ sandbox, webhook }, u.toString()) });
    },
    { timeout: 15 * 60_000 },
  );

  after(async () => {
    await app?.kill();
    await sandbox?.stop();
    await sql?.end({ timeout: 2 }).catch(() => {});
    await admin?.unsafe(`drop database if exists ${dbName} with (force)`).catch(() => {});
    await admin?.unsafe(`drop role if exists ${role}`).catch(() => {});
    await admin?.end();
    release();
  });

  /** Holds a lock on `table` in another session until the returned function is called. */
  const lockTable = (table: string, mode: string) => async () => {
    const holder = postgres(dbUrl, { max: 1, onnotice: () => {} });
    let done!: () => void;
    const held = new Promise<void>((r) => (done = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const tx = holder.begin(async (t) => {
      await t.unsafe(`lock table ${table} in ${mode} mode`);
      locked();
      await held;
    });
    await isLocked;
    return async () => {
      done();
      await tx;
      await holder.end();
    };
  };

  const faults: Fault[] = [
    { name: 'share lock on events (CREATE INDEX)', seconds: FAULT_S, inject: lockTable('events', 'share') },
    // The full run only: 35 s more in `npm test` for what the 6 s lock already shows (503 in 3 s).
    ...(FULL
      ? [
          {
            name: 'share lock held past two statement timeouts of 15 s',
            seconds: LONG_LOCK_S,
            inject: lockTable('events', 'share'),
          },
        ]
      : []),
    {
      name: 'connections refused (53300, role connection limit)',
      seconds: FAULT_S,
      inject: async () => {
        await admin.unsafe(`alter role ${role} connection limit 0`);
        await admin.unsafe(
          `select pg_terminate_backend(pid) from pg_stat_activity where usename = '${role}'`,
        );
        return async () => {
          await admin.unsafe(`alter role ${role} connection limit -1`);
        };
      },
    },
    {
      name: 'failing side table (trigger on fingerprints)',
      seconds: FAULT_S,
      inject: async () => {
        await sql.unsafe(`create or replace function fp_fail() returns trigger language plpgsql as $$
          begin raise exception 'fingerprints unavailable' using errcode = 'P0001'; end $$`);
        await sql.unsafe(
          'create trigger fp_fail before insert on fingerprints for each row execute function fp_fail()',
        );
        return async () => {
          await sql.unsafe('drop trigger fp_fail on fingerprints');
        };
      },
    },
  ];

  test('every fault answered 503 and retried: nothing acked without an event, nothing twice, no 500', {
    timeout: 20 * 60_000,
  }, async () => {
    const perFault: Array<{ fault: string; seconds: number }> = [];
    const total = Math.round(RATE * (faults.reduce((a, f) => a + f.seconds + 6, 0) + 10));
    const sending = emitPaced(sandbox, total, RATE, 30 * 60_000);
    await delay(5000);
    for (const f of faults) {
      const clear = await f.inject();
      await delay(f.seconds * 1000);
      await clear();
      perFault.push({ fault: f.name, seconds: f.seconds });
      await delay(6000);
    }
    const sendS = await sending;
    await until('sandbox retries finished', () => sandboxIdle(sandbox), 5 * 60_000, 500);
    await until('queue drained', () => queueDrained(sql), 5 * 60_000, 500);

    const log = await deliveryLog(sandbox, webhook.id);
    const l = await ledger(sql, log);
    const byStatus = new Map<number | null, number>();
    for (const row of log)
      byStatus.set(row.responseStatusCode, (byStatus.get(row.responseStatusCode) ?? 0) + 1);
    const figures = {
      faults: perFault,
      deliveries: l.unique,
      posts: l.posts,
      acked: l.acked,
      answered_503: byStatus.get(503) ?? 0,
      answered_500: byStatus.get(500) ?? 0,
      acked_without_event: l.ackedWithoutEvent.length,
      never_acked: l.neverAcked.length,
      double_processed: l.duplicateEffects + l.multiSuccess + l.doubleApplyErrors,
      events: l.events,
      processed: l.processed,
      dead: l.dead,
      send_seconds: Math.round(sendS),
    };
    report('db-faults', figures);
    assert.equal(figures.answered_500, 0, 'never a 500');
    assert.ok(figures.answered_503 > 0, 'the faults were met (otherwise this proved nothing)');
    assert.deepEqual(ledgerProblems(l), {}, `ledger invariants (${JSON.stringify(figures)})`);
  });
});
