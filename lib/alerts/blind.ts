import type { Queryable } from '@/db/client';
import { readMemory, writeMemory } from '@/db/queries/alerts';
import type { AlertRule } from '@/db/schema';

const MEMORY_KEY = 'alerts:blind_rules';

/** A rule that could not look, since when (the first round of the run) and why (the latest round). */
export type BlindRule = { rule: AlertRule; since: string; reason: string };

/**
 * Keeps, across rounds and replicas (the settings table), since when each rule has been unable to
 * look: a rule that looks again is forgotten, one still blind keeps its first round's time.
 */
export async function trackBlindRules(
  db: Queryable,
  now: Date,
  blindNow: ReadonlyMap<AlertRule, string>,
): Promise<BlindRule[]> {
  const before = await readMemory<Partial<Record<AlertRule, string>>>(db, MEMORY_KEY, {});
  const out: BlindRule[] = [...blindNow].map(([rule, reason]) => ({
    rule,
    since: before[rule] ?? now.toISOString(),
    reason,
  }));
  await writeMemory(db, MEMORY_KEY, Object.fromEntries(out.map((b) => [b.rule, b.since])));
  return out;
}
