'use client';

import { useQuery } from '@tanstack/react-query';
import { describeApiError } from '@/components/state-error';
import { type DlqFilters, retryPreviewOptions } from '@/lib/queries/dlq';

const list = (m: Record<string, number>) =>
  Object.entries(m)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => (
      <li key={k}>
        <strong>{n}</strong> {k}
      </li>
    ));

/**
 * The dry run of a bulk retry, shown before it: what matches, by event type and by error, how many
 * a newer state already superseded or whose object is gone, and the choice to leave the superseded out.
 */
export function PanelRetryPreview({
  filters,
  exclude,
  onExclude,
}: {
  filters: DlqFilters;
  exclude: boolean;
  onExclude: (on: boolean) => void;
}) {
  const preview = useQuery(retryPreviewOptions(filters));
  // An earlier opening's dry run is not shown while this one's is on its way.
  if (preview.isPending || preview.isFetching) return <p>Checking what would be replayed…</p>;
  if (preview.isError) return <p>Could not preview the replay: {describeApiError(preview.error).detail}</p>;
  const p = preview.data;
  return (
    <section aria-label="Replay preview">
      <p>
        Dry run: <strong>{p.matched}</strong> match, received{' '}
        {p.oldest ? `from ${p.oldest} to ${p.newest}` : '(none)'}.
      </p>
      <p className="muted" style={{ margin: 0 }}>
        By event type
      </p>
      <ul aria-label="By event type" style={{ marginTop: 0 }}>
        {list(p.by_event_type)}
      </ul>
      <p className="muted" style={{ margin: 0 }}>
        By last error
      </p>
      <ul aria-label="By error" style={{ marginTop: 0 }}>
        {list(p.by_error)}
      </ul>
      <p>
        <strong>{p.superseded}</strong> superseded (a newer state of the same object is already stored: the
        handler would skip them); <strong>{p.missing_objects}</strong> about objects that no longer exist.
      </p>
      <label className="row">
        <input
          type="checkbox"
          checked={exclude}
          disabled={p.superseded === 0}
          onChange={(e) => onExclude(e.target.checked)}
        />
        Leave out the {p.superseded} superseded
      </label>
    </section>
  );
}
