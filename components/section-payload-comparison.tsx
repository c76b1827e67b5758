import Link from 'next/link';
import type { DeliveryComparisonsJson } from '@/lib/queries/types';
import { TablePayloadDiff } from './table-payload-diff';
import { TextTime } from './text-time';

type Comparison = NonNullable<DeliveryComparisonsJson['previous']>;

/** One comparison: which delivery it is against (a link), then the field changes. */
export function SectionPayloadComparison({
  title,
  c,
  label,
}: {
  title: string;
  c: Comparison;
  label: string;
}) {
  return (
    <>
      <h3 style={{ fontSize: '0.95rem', margin: '0.75rem 0 0.35rem' }}>
        {title}:{' '}
        {c.receipt_id === null ? (
          <span className="mono">{c.delivery_id ?? `event #${c.event_id}`}</span>
        ) : (
          <Link href={`/deliveries/${c.receipt_id}`} className="mono">
            {c.delivery_id ?? `#${c.receipt_id}`}
          </Link>
        )}{' '}
        <span className="muted">
          (<TextTime iso={c.at} />)
        </span>
      </h3>
      {c.changes.length === 0 ? (
        <p className="muted">Same payload.</p>
      ) : (
        <>
          <TablePayloadDiff changes={c.changes} label={label} />
          {c.truncated > 0 && <p className="muted">…and {c.truncated} more changes.</p>}
        </>
      )}
    </>
  );
}
