import { type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Tx } from '@/db/client';
import { rowsOf } from '@/db/client';
import { stringifyJson } from '@/lib/json';

export type HandlerEvent = {
  id: number;
  /** The source it came in on: the handlers' objects are per source (two accounts, two contact 42s). */
  source: string;
  deliveryId: string;
  eventType: string;
  data: Record<string, unknown>;
  /** The provider's time for the event (signed envelope timestamp), when it sent one. */
  providerTs: Date | null;
};

export type HandlerContext = {
  /** Where notifications go (NOTIFY_WEBHOOK_URL, or the sandbox's downstream); null: none. */
  notifyUrl: string | null;
};

/** The object a change is versioned on (entity_versions) and the version of this change. */
export type VersionTarget = {
  source: string;
  entity: string;
  id: number | bigint;
  /** ISO 8601 text, to the microsecond when the provider gave one (see versionOf). */
  version: string | null;
  deleted: boolean;
};

/**
 * One event handler. `parse` validates the data (a ZodError is permanent), `notify` does effects
 * outside the database (at least once: it may repeat if a later step fails), and `apply` does the
 * database writes inside the transaction that marks the event processed (exactly once).
 */
export type Handler<T> = {
  parse: (data: Record<string, unknown>) => T;
  notify?: (value: T, event: HandlerEvent, ctx: HandlerContext) => Promise<void>;
  /** 'skipped_stale': the change was older than the stored state and was not applied. */
  apply: (tx: Tx, value: T, event: HandlerEvent) => Promise<'applied' | 'skipped_stale'>;
  /**
   * For handlers that version their object: which object and which version, the same rule `apply`
   * claims with, so a replay preview can tell which dead letters a newer state already superseded.
   */
  target?: (value: T, event: HandlerEvent) => VersionTarget;
  /**
   * The object `apply` writes, for handlers without a `target`: a batch runs the applies of
   * different objects side by side on its one connection (see writeKey in lib/worker/worker.ts).
   */
  key?: (value: T) => string;
};

export function defineHandler<T>(h: Handler<T>): Handler<unknown> {
  return h as Handler<unknown>;
}

/** Entities come nested (`data.contact`) in one version of the provider's docs and flat in the other. */
export function entity(data: Record<string, unknown>, key: string): Record<string, unknown> {
  const nested = data[key];
  return nested && typeof nested === 'object' && !Array.isArray(nested)
    ? (nested as Record<string, unknown>)
    : data;
}

/** A provider's integer id; past 2^53 it arrives as a bigint (lib/json.ts) and stays exact. */
export const providerId = z.union([z.number().int().positive(), z.bigint().positive()]);

/**
 * An id for a `bigint` column declared in number mode: the drivers bind a JS bigint exactly, so an id
 * past 2^53 is written as sent (only reading it back as a number would round it).
 */
export function dbId(id: number | bigint): number {
  return id as number;
}

/** An entity for a jsonb column with numbers past 2^53 written exactly (JSON.stringify refuses bigint). */
export function exactJsonb(value: unknown) {
  return sql`${stringifyJson(value)}::jsonb`;
}

/** An ISO 8601 time with its zone, to the microsecond at most: what Postgres reads exactly. */
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?(?:Z|[+-](\d{2})(?::?(\d{2}))?)$/i;

/**
 * Whether Postgres takes the time as written. JavaScript rolls an impossible one over (February 30
 * is March 2, an offset of +16:00 is read); Postgres refuses it, which would dead-letter the event.
 */
function exactIsoTime(v: string): boolean {
  const m = ISO_TIME.exec(v);
  if (!m) return false;
  const [year, month, day, hour, minute, second, offsetHours = '0', offsetMinutes = '0'] = m
    .slice(1)
    .map((x) => (x === undefined ? undefined : Number(x))) as number[];
  const date = new Date(Date.UTC(year!, month! - 1, day!));
  return (
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month! - 1 &&
    date.getUTCDate() === day &&
    hour! < 24 &&
    minute! < 60 &&
    second! < 60 &&
    Number(offsetHours) < 16 &&
    Number(offsetMinutes) < 60
  );
}

/**
 * The version of a change: the object's own time for this state (`updated_at`, or `deleted_at` for
 * a deletion, or `created_at`), else the provider's time for the event. Null: unknown, apply as is.
 * An ISO time is kept as written, microseconds included (the provider writes six digits; a Date
 * keeps three, and two changes in one millisecond would tie and be ordered by arrival instead).
 */
export function versionOf(
  entity: Record<string, unknown>,
  fields: readonly string[],
  event: HandlerEvent,
): string | null {
  for (const f of fields) {
    const v = entity[f];
    if (typeof v !== 'string') continue;
    const t = Date.parse(v);
    if (!Number.isFinite(t)) continue;
    return exactIsoTime(v) ? v : new Date(t).toISOString();
  }
  return event.providerTs?.toISOString() ?? null;
}

/** Microseconds since the epoch of an ISO time (the `versionOf` text), for comparing versions exactly. */
export function epochMicros(iso: string): bigint {
  const fraction = /:\d{2}\.(\d{1,6})/.exec(iso)?.[1] ?? '';
  const wholeSeconds = Math.floor(Date.parse(iso) / 1000);
  return BigInt(wholeSeconds) * 1_000_000n + BigInt(fraction.padEnd(6, '0') || '0');
}

/**
 * Runs the handler's write only if `version` is newer than the object's stored state, and records it
 * as that state, in ONE statement in the handler's transaction. `write(won)` is the write, an INSERT …
 * SELECT … WHERE won, an UPDATE or a DELETE whose WHERE includes `won`: the condition that the claim
 * won. The claim's upsert locks the object's version row, so two workers cannot both win.
 *
 * With `write` null only the claim is made: for a write that must see rows another transaction
 * committed while the claim waited for its lock (see contact-deleted.ts).
 *
 * The claim loses when the stored state is newer, or is a deletion at least as new, or is a change
 * as new that came from a later event while this one is not a deletion (versions are times to the
 * microsecond at best, often the second: two changes in one tick are told apart by the order they
 * arrived in, so a retried older one does not win again; the same event replayed does): false, nothing is written,
 * and the change is to be skipped. A change without a version is applied unless the stored state is
 * a deletion (and leaves the stored version alone); a deletion without one is versioned at the
 * time we received it.
 *
 * One statement, not a claim and then the write: on PGlite every statement costs its one database
 * thread about half a millisecond whatever it does, and two per event were a third of that thread's
 * work in the default configuration (bench/levers.md, issue #19).
 */
export async function writeIfNewer(
  tx: Tx,
  o: VersionTarget & { eventId: number },
  write: ((won: SQL) => SQL) | null,
): Promise<boolean> {
  if (o.version === null && !o.deleted) {
    // Unordered: applied, unless the object's stored state is a deletion (a change that cannot say
    // it came after it must not bring the object back).
    const alive = sql`not exists (select 1 from entity_versions
      where source = ${o.source} and entity = ${o.entity} and id = ${dbId(o.id)} and deleted)`;
    const w = write ? sql`with w as (${write(alive)}) ` : sql``;
    return rowsOf<{ won: boolean }>(await tx.execute(sql`${w}select ${alive} as won`))[0]?.won === true;
  }
  const w = write ? sql`, w as (${write(sql`exists (select 1 from won)`)})` : sql``;
  // A deletion that does not say when it happened counts from when we received it: without a
  // tombstone, an older change arriving later (a dead letter retried) would bring the object back.
  const version =
    o.version === null
      ? sql`(select created_at from events where id = ${o.eventId})`
      : sql`${o.version}::timestamptz`;
  // A data-modifying CTE runs whether or not it is read, and all of them see one snapshot: `w` reads
  // the claim's outcome through `won`, never the version row itself. A deletion wins a tie with a
  // change whatever order they arrived in (which workers side by side, or a retry, can reverse).
  const res = await tx.execute(sql`
    with won as (
      insert into entity_versions as v (source, entity, id, version_at, deleted, event_id)
      values (${o.source}, ${o.entity}, ${dbId(o.id)}, ${version}, ${o.deleted}, ${o.eventId})
      on conflict (source, entity, id) do update
         set version_at = excluded.version_at, deleted = excluded.deleted, event_id = excluded.event_id
       where v.version_at < excluded.version_at
          or (v.version_at = excluded.version_at and not v.deleted
              and (excluded.deleted or v.event_id <= excluded.event_id))
      returning 1)${w}
    select exists (select 1 from won) as won`);
  return rowsOf<{ won: boolean }>(res)[0]?.won === true;
}
