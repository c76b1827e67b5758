import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Tx } from '@/db/client';
import { stringifyJson } from '@/lib/json';

export type HandlerEvent = {
  id: number;
  deliveryId: string;
  eventType: string;
  data: Record<string, unknown>;
};

export type HandlerContext = {
  /** Where notifications go (NOTIFY_WEBHOOK_URL, or the sandbox's downstream); null: none. */
  notifyUrl: string | null;
};

/**
 * One event handler. `parse` validates the data (a ZodError is permanent), `notify` does effects
 * outside the database (at least once: it may repeat if a later step fails), and `apply` does the
 * database writes inside the transaction that marks the event processed (exactly once).
 */
export type Handler<T> = {
  parse: (data: Record<string, unknown>) => T;
  notify?: (value: T, event: HandlerEvent, ctx: HandlerContext) => Promise<void>;
  apply: (tx: Tx, value: T, event: HandlerEvent) => Promise<void>;
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
