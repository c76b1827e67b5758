import type { AlertView } from '@/db/queries/alerts';
import type { AlertTransition } from '@/db/schema';
import { slackText } from '@/lib/notify';
import { RULE_DEFINITIONS } from './rules';

export type SignatureRefusal = { reason: string | null; source: string };

/**
 * The `signature_failures` summary. A function of its own so signature forensics (issue 16) can pass
 * one that names the likely cause; this one counts the refusal reasons the stored receipts carry.
 */
export type SignatureSummary = (input: {
  total: number;
  windowMinutes: number;
  refusals: readonly SignatureRefusal[];
}) => string;

export const signatureSummary: SignatureSummary = ({ total, windowMinutes, refusals }) => {
  const counts = new Map<string, number>();
  for (const r of refusals) counts.set(r.reason ?? 'unknown', (counts.get(r.reason ?? 'unknown') ?? 0) + 1);
  const top = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([reason, n]) => `${reason} ×${n}`)
    .join(', ');
  const sources = [...new Set(refusals.map((r) => r.source))].slice(0, 3).join(', ');
  return `${total} refused request(s) in ${windowMinutes} min${sources ? ` on ${sources}` : ''}${top ? ` (latest stored: ${top})` : ''}`;
};

const ICON: Record<AlertTransition, string> = {
  opened: ':rotating_light:',
  reopened: ':rotating_light:',
  acknowledged: ':eyes:',
  lost: ':skull:',
  resolved: ':white_check_mark:',
};

/** The channel message of one state change; every value is escaped (summaries quote deliveries). */
export function transitionText(t: AlertTransition, a: AlertView): string {
  const deadline = typeof a.detail.deadline_at === 'string' ? a.detail.deadline_at : null;
  // Ours to keep (dead letters, unread deliveries, acknowledged already): the deadline is retention's.
  const ours = a.detail.deadline_of === 'retention';
  const lost = a.detail.lost === true;
  const tail =
    t === 'resolved' || t === 'acknowledged'
      ? ''
      : lost
        ? ' Events are lost: see the alert for what is known of them.'
        : deadline
          ? ours
            ? ` The oldest raw receipt is pruned at ${deadline} (retention).`
            : ` The provider gives up at ${deadline}.`
          : '';
  const who = t === 'acknowledged' && a.acknowledged_by ? ` by ${a.acknowledged_by}` : '';
  return slackText`${ICON[t]} [${a.severity}] ${RULE_DEFINITIONS[a.rule].label} (${a.subject}) ${t}${who}: ${a.summary}.${tail}`;
}
