import type { Queryable } from '@/db/client';
import { readMemory } from '@/db/queries/alerts';
import type { AlertRule } from '@/db/schema';

export const BLIND_MEMORY_KEY = 'alerts:blind_rules';

/** A rule that could not look, since when (the first round of the run) and why (the latest round). */
export type BlindRule = { rule: AlertRule; since: string; reason: string };

/**
 * Since when each rule has been unable to look, across rounds and replicas (the settings table): a
 * rule that looks again is forgotten, one still blind keeps its first round's time. Returns the list
 * and the memory to store, which the round writes with its findings (under its lease).
 */
export async function blindRules(
  db: Queryable,
  now: Date,
  blindNow: ReadonlyMap<AlertRule, string>,
): Promise<{ blind: BlindRule[]; memory: Partial<Record<AlertRule, string>> }> {
  const before = await readMemory<Partial<Record<AlertRule, string>>>(db, BLIND_MEMORY_KEY, {});
  const blind: BlindRule[] = [...blindNow].map(([rule, reason]) => ({
    rule,
    since: before[rule] ?? now.toISOString(),
    reason,
  }));
  return { blind, memory: Object.fromEntries(blind.map((b) => [b.rule, b.since])) };
}
