'use client';

import { useQuery } from '@tanstack/react-query';
import { useEffect, useId, useRef } from 'react';
import { eventTimeline } from '@/lib/event-timeline';
import { prettyJson } from '@/lib/format';
import { providerLabel } from '@/lib/providers/catalog';
import { eventOptions } from '@/lib/queries/dlq';
import { BadgeFailure } from './badge-failure';
import { BadgeStatus } from './badge-status';
import { ButtonCopy } from './button-copy';
import { StateError } from './state-error';
import { StateLoading } from './state-loading';
import { TextTime } from './text-time';

/**
 * One dead letter in a side panel: a modal <dialog> at the edge of the viewport, so it opens where
 * the eye is, takes the focus (Tab reaches Retry at once), closes on Escape, and gives the focus back
 * to the row that opened it. Its URL (`?selected=`) can be shared.
 */
export function PanelDeadLetter({
  id,
  busy,
  locked,
  error,
  onRetry,
  onDiscard,
  onClose,
}: {
  id: number;
  busy: boolean;
  /** Why this person may not retry or discard (their role), if so. */
  locked?: string;
  /** What went wrong with the last retry or discard: shown here, as the page behind is inert. */
  error?: string | null;
  onRetry: (id: number) => void;
  onDiscard: (id: number) => void;
  onClose: () => void;
}) {
  const q = useQuery(eventOptions(id));
  const e = q.data;
  const payload = e ? prettyJson(e.payload_text) : '';
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    // The browser gives the focus back only when an open dialog closes; this one is unmounted, so
    // the element that had the focus (the row's button) gets it back here.
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (d && !d.open) d.showModal();
    return () => {
      d?.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      className="drawer"
      aria-labelledby={titleId}
      onCancel={(ev) => {
        ev.preventDefault();
        onClose();
      }}
    >
      <div className="section-head" style={{ marginTop: 0 }}>
        <h2 id={titleId}>Dead letter · event #{id}</h2>
        <button type="button" className="small" onClick={onClose} aria-label="Close detail">
          Close
        </button>
      </div>
      {error && (
        <div className="alert" data-tone="bad" role="alert">
          {error}
        </div>
      )}
      {q.isPending ? (
        <StateLoading label="Loading dead letter" rows={4} />
      ) : q.isError ? (
        <StateError error={q.error} onRetry={() => q.refetch()} />
      ) : (
        e && (
          <>
            {e.status === 'dead' && (
              <div className="row" style={{ marginBottom: '0.75rem' }}>
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
            <dl className="kv">
              <dt>Status</dt>
              <dd>
                <BadgeStatus value={e.status} /> {e.status === 'dead' && <BadgeFailure value={e.failure} />}
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
              <dd>
                <TextTime iso={e.created_at} />
              </dd>
              <dt>Dead since</dt>
              <dd>
                <TextTime iso={e.dead_at} />
              </dd>
              <dt>Attempts</dt>
              <dd>
                {e.total_attempts} in all; {e.attempts} in the current round
                {e.interruptions > 0 && `; interrupted ${e.interruptions}× (worker stopped)`}
              </dd>
              <dt>Last error</dt>
              <dd>{e.last_error ?? '—'}</dd>
            </dl>
            <section aria-labelledby={`history-${id}`}>
              <div className="section-head">
                <h2 id={`history-${id}`}>History</h2>
              </div>
              <ol className="timeline" aria-label="History">
                {eventTimeline(e.attempt_history, e.history).map((s) => (
                  <li key={s.key} data-tone={s.tone}>
                    <div>
                      <strong>{s.label}</strong>
                    </div>
                    <div className="timeline-time">
                      <TextTime iso={s.at} />
                    </div>
                    {s.detail && (
                      <div className="muted" style={{ fontSize: '0.85rem' }}>
                        {s.detail}
                      </div>
                    )}
                  </li>
                ))}
              </ol>
            </section>
            <section aria-labelledby={`payload-${id}`}>
              <div className="section-head">
                <h2 id={`payload-${id}`}>Payload</h2>
                <ButtonCopy text={payload} label="Copy payload" />
              </div>
              <pre className="code">{payload}</pre>
            </section>
          </>
        )
      )}
    </dialog>
  );
}
