import { formatCount } from '@/lib/format';
import type { ReconciliationSummary } from '@/lib/queries/types';
import { CardKpi } from './card-kpi';

const LABELS: Record<string, string> = {
  matched: 'Matched',
  never_received: 'Never received',
  answered_non_2xx: 'We refused',
  acked_late: 'Acked late',
  provider_failed: 'Lost (provider gave up)',
};

/** One card per class; the hint says how many the provider still retries (savable now). */
export function GridReconciliationCounts({ counts }: { counts: ReconciliationSummary['counts'] }) {
  return (
    <div className="grid-kpi">
      {counts.map((c) => (
        <CardKpi
          key={c.class}
          label={LABELS[c.class] ?? c.class}
          value={formatCount(c.count)}
          hint={
            c.class === 'matched'
              ? undefined
              : c.retrying > 0
                ? `${formatCount(c.retrying)} still retried`
                : undefined
          }
          tone={
            c.count === 0 || c.class === 'matched'
              ? undefined
              : c.class === 'provider_failed'
                ? 'bad'
                : 'warn'
          }
        />
      ))}
    </div>
  );
}
