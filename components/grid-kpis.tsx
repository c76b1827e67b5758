import { formatAge, formatCount, formatMs, formatPct } from '@/lib/format';
import { ACK_P95_BAD_MS, ACK_P95_WARN_MS } from '@/lib/metrics/pattern-health';
import type { Summary } from '@/lib/queries/types';
import { CardKpi } from './card-kpi';

export function GridKpis({ summary: s }: { summary: Summary }) {
  const ack = s.ack_ms.p95;
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
        hint="dead letters now"
      />
      <CardKpi
        label="Queue depth"
        value={formatCount(s.queue_depth)}
        hint={
          s.oldest_pending_age_ms === null
            ? 'nothing pending'
            : `oldest ${formatAge(s.oldest_pending_age_ms)}`
        }
      />
      <CardKpi label="Handler p95" value={formatMs(s.handler_ms.p95)} hint="last hour of the range" />
    </div>
  );
}
