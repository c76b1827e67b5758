import type { ReactNode } from 'react';
import { StateEmpty } from '../state-empty';
import { StateError } from '../state-error';
import { StateLoading } from '../state-loading';
import { TextTimeZone } from '../text-time-zone';

/** Title, loading, error and empty states around one chart, so each chart file is only its config. */
export function ChartFrame({
  title,
  subtitle,
  query,
  empty,
  emptyText = 'Deliveries will appear here as they arrive.',
  timeAxis = true,
  children,
}: {
  title: string;
  subtitle?: string;
  query: { isPending: boolean; isError: boolean; error: unknown; refetch: () => unknown };
  empty: boolean;
  emptyText?: string;
  /** The x axis is time: the caption names its zone. */
  timeAxis?: boolean;
  children: ReactNode;
}) {
  return (
    <figure className="panel" aria-label={title} style={{ margin: 0 }}>
      <figcaption>
        <h2 style={{ marginBottom: '0.1rem' }}>{title}</h2>
        {(subtitle || timeAxis) && (
          <div className="muted" style={{ fontSize: '0.8rem', marginBottom: '0.5rem' }}>
            {subtitle}
            {subtitle && timeAxis && ' · '}
            {timeAxis && (
              <>
                times in <TextTimeZone />
              </>
            )}
          </div>
        )}
      </figcaption>
      <div className="chart-box">
        {query.isPending ? (
          <StateLoading label={`Loading ${title}`} rows={5} />
        ) : query.isError ? (
          <StateError error={query.error} onRetry={() => query.refetch()} />
        ) : empty ? (
          <StateEmpty title="No data in this range">{emptyText}</StateEmpty>
        ) : (
          children
        )}
      </div>
    </figure>
  );
}
