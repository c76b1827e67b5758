import type { Queryable } from '@/db/client';
import { rejectionCauseCounts } from '@/db/queries/secrets';
import type { SignatureCause } from '@/db/schema';
import { SIGNATURE_CAUSE_LABELS } from './causes';

export type RejectionCauses = {
  total: number;
  causes: Array<{ cause: SignatureCause; label: string; count: number }>;
  /** One line for an alert: "12 refused signatures: 9 matches a retired secret, 3 no signature header". */
  summary: string;
};

/**
 * Refused signatures from `since` (to `until`) (optionally of one source) by the cause their forensics found,
 * most frequent first. For the overview's breakdown and the `signature_failures` alert's summary.
 */
export async function rejectionCauses(
  db: Queryable,
  filter: { source?: string; since: Date; until?: Date },
): Promise<RejectionCauses> {
  const rows = await rejectionCauseCounts(db, filter);
  const causes = rows.map((r) => ({ ...r, label: SIGNATURE_CAUSE_LABELS[r.cause] ?? r.cause }));
  const total = causes.reduce((n, c) => n + c.count, 0);
  const parts = causes.map((c) => `${c.count} ${c.label}`).join(', ');
  const summary =
    total === 0 ? 'no refused signatures' : `${total} refused signature${total === 1 ? '' : 's'}: ${parts}`;
  return { total, causes, summary };
}
