'use client';

import { useQuery } from '@tanstack/react-query';
import { formatTime } from '@/lib/format';
import { providerLabel } from '@/lib/providers/catalog';
import { eventOptions } from '@/lib/queries/dlq';
import { BadgeStatus } from './badge-status';
import { ButtonCopy } from './button-copy';
import { StateError } from './state-error';
import { StateLoading } from './state-loading';
import { TableAttempts } from './table-attempts';

/** One dead letter: payload, attempt history, and the actions on it. */
export function PanelDeadLetter({
  id,
  busy,
  locked,
  onRetry,
  onDiscard,
  onClose,
}: {
  id: number;
  busy: boolean;
  /** Why this person may not retry or discard (their role), if so. */
  locked?: string;
  onRetry: (id: number) => void;
  onDiscard: (id: number) => void;
  onClose: () => void;
}) {
  const q = useQuery(eventOptions(id));
  const e = q.data;
  const payload = e ? JSON.stringify(e.payload, null, 2) : '';
  return (
    <section className="panel" aria-label="Dead letter detail">
      <div className="section-head" style={{ marginTop: 0 }}>
        <h2>Event #{id}</h2>
        <button type="button" className="small" onClick={onClose} aria-label="Close detail">
          Close
        </button>
      </div>
      {q.isPending ? (
        <StateLoading label="Loading dead letter" rows={4} />
      ) : q.isError ? (
        <StateError error={q.error} onRetry={() => q.refetch()} />
      ) : (
        e && (
          <>
            <dl className="kv">
              <dt>Status</dt>
              <dd>
                <BadgeStatus value={e.status} />
              </dd>
              <dt>Source</dt>
              <dd>
                {e.source} · {providerLabel(e.provider)}
              </dd>
              <dt>Event type</dt>
              <dd>{e.event_type}</dd>
              <dt>Delivery id</dt>
              <dd className="mono">{e.delivery_id}</dd>
              <dt>Created</dt>
              <dd>{formatTime(e.created_at)}</dd>
              <dt>Dead since</dt>
              <dd>{formatTime(e.dead_at)}</dd>
              <dt>Last error</dt>
              <dd>{e.last_error ?? '—'}</dd>
            </dl>
            {e.status === 'dead' && (
              <div className="row" style={{ marginTop: '0.75rem' }}>
                <button
                  type="button"
                  className="primary"
                  disabled={busy || !!locked}
                  title={locked}
                  onClick={() => onRetry(id)}
                >
                  Retry this event
                </button>
                <button
                  type="button"
                  className="danger"
                  disabled={busy || !!locked}
                  title={locked}
                  onClick={() => onDiscard(id)}
                >
                  Discard
                </button>
              </div>
            )}
            <section aria-labelledby={`payload-${id}`}>
              <div className="section-head">
                <h2 id={`payload-${id}`}>Payload</h2>
                <ButtonCopy text={payload} label="Copy payload" />
              </div>
              <pre className="code">{payload}</pre>
            </section>
            <div className="section-head">
              <h2>Attempt history</h2>
            </div>
            <TableAttempts attempts={e.attempt_history} />
          </>
        )
      )}
    </section>
  );
}
