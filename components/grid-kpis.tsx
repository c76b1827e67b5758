import { formatAge, formatCount, formatMs, formatPct } from '@/lib/format';
import { ACK_P95_BAD_MS, ACK_P95_WARN_MS } from '@/lib/metrics/pattern-health';
import type { Summary } from '@/lib/queries/types';
import { CardKpi } from './card-kpi';

/**
 * The overview's numbers, all of the selected event type. Most cover the selected range; DLQ size and
 * queue depth are the state now (a range does not apply to them) and handler times the range's last
 * hour at most, and their hints say so.
 */
export function GridKpis({ summary: s, eventType }: { summary: Summary; eventType: string | null }) {
  const ack = s.ack_ms.p95;
  const of = eventType ? ` · ${eventType}` : '';
  return (
    <div className="grid-kpi">
      <CardKpi
        label="Deliveries / min"
        value={formatCount(s.deliveries_per_min)}
        hint={`${formatCount(s.total)} in range`}
      />
      <CardKpi
        label="Ack p95"
        value={formatMs(ack)}
        hint={`p50 ${formatMs(s.ack_ms.p50)} · p99 ${formatMs(s.ack_ms.p99)}`}
        tone={
          ack === null
            ? undefined
            : ack >= ACK_P95_BAD_MS
              ? 'bad'
              : ack >= ACK_P95_WARN_MS
                ? 'warn'
                : undefined
        }
      />
      <CardKpi label="Lag p95" value={formatMs(s.lag_ms.p95)} hint={`p50 ${formatMs(s.lag_ms.p50)}`} />
      <CardKpi
        label="Duplicate rate"
        value={formatPct(s.duplicate_rate)}
        hint={`${formatCount(s.totals.duplicate)} duplicates`}
      />
      <CardKpi label="Retry rate" value={formatPct(s.retry_rate)} hint="events needing >1 attempt" />
      <CardKpi
        label="DLQ size"
        value={formatCount(s.dlq_size)}
        tone={s.dlq_size > 0 ? 'warn' : undefined}
        hint={`dead letters now, any age${of}`}
      />
      <CardKpi
        label="Queue depth"
        value={formatCount(s.queue_depth)}
        hint={`${
          s.oldest_pending_age_ms === null
            ? 'nothing pending now'
            : `now, oldest ${formatAge(s.oldest_pending_age_ms)}`
        }${of}`}
      />
      <CardKpi
        label="Handler p95"
        value={formatMs(s.handler_ms.p95)}
        hint={`${s.handler_ms.count === 0 ? 'no attempts' : `${formatCount(s.handler_ms.count)} attempts`} in the range's last hour${of}`}
      />
    </div>
  );
}
