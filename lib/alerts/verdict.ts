import type { AlertRule } from '@/db/schema';
import { RULE_DEFINITIONS, type Side } from './rules';

export type VerdictInput = {
  active: ReadonlyArray<{ rule: AlertRule; subject: string; summary: string }>;
  /** p95 of our acknowledgement time over the last minutes; null without traffic. */
  ackP95Ms: number | null;
  /** Our answer-time budget (the charts' 1 s reference line), far inside the provider's timeout. */
  ackBudgetMs: number;
  /**
   * Event types that flowed steadily, per source (the silence rule's learning and subjects), to tell
   * "one type" from "all".
   */
  flowingTypes: number;
};

export type Verdict = {
  side: 'none' | Side | 'both';
  line: string;
  evidence: Array<{ side: Side; rule: AlertRule | 'ack_slow'; subject: string; summary: string }>;
};

/**
 * Whose side the trouble is on right now, in one line with its evidence: provider side for lag,
 * provider failures, a disabled webhook and silence; ours for refusals, slow acks, backlog, dead
 * letters and storage. Silence of every flowing type is named as such (the provider stopped sending).
 */
export function verdictOf(v: VerdictInput): Verdict {
  const evidence: Verdict['evidence'] = v.active.map((a) => ({
    side: RULE_DEFINITIONS[a.rule].side,
    rule: a.rule,
    subject: a.subject,
    summary: a.summary,
  }));
  if (v.ackP95Ms !== null && v.ackP95Ms > v.ackBudgetMs) {
    evidence.push({
      side: 'ours',
      rule: 'ack_slow',
      subject: '*',
      summary: `our answers take ${(v.ackP95Ms / 1000).toFixed(1)} s at p95 (budget ${(v.ackBudgetMs / 1000).toFixed(0)} s)`,
    });
  }
  const provider = evidence.filter((e) => e.side === 'provider');
  const ours = evidence.filter((e) => e.side === 'ours');
  const silent = v.active.filter((a) => a.rule === 'silence').length;
  const allSilent = v.flowingTypes > 0 && silent >= v.flowingTypes;
  const say = (list: typeof evidence) =>
    list
      .slice(0, 3)
      .map((e) => `${RULE_DEFINITIONS[e.rule as AlertRule]?.label ?? 'Slow acks'}: ${e.summary}`)
      .join('; ') + (list.length > 3 ? `; and ${list.length - 3} more` : '');
  if (provider.length === 0 && ours.length === 0) {
    return { side: 'none', line: 'No trouble on either side right now: no open alert.', evidence };
  }
  if (ours.length === 0) {
    const lead = allSilent ? 'Provider side: every event type has gone quiet. ' : 'Provider side: ';
    return { side: 'provider', line: `${lead}${say(provider)}`, evidence };
  }
  if (provider.length === 0) return { side: 'ours', line: `Our side: ${say(ours)}`, evidence };
  return { side: 'both', line: `Both sides. Ours: ${say(ours)}. Provider: ${say(provider)}`, evidence };
}
