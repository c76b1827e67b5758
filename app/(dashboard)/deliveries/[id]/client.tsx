'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { BadgeStatus } from '@/components/badge-status';
import { ButtonCopy } from '@/components/button-copy';
import { ButtonEnqueueDuplicate } from '@/components/button-enqueue-duplicate';
import { PanelPayloadDiff } from '@/components/panel-payload-diff';
import { PanelSignatureForensics } from '@/components/panel-signature-forensics';
import { StateError } from '@/components/state-error';
import { StateLoading } from '@/components/state-loading';
import { TextTime } from '@/components/text-time';
import { TimelineDelivery } from '@/components/timeline-delivery';
import { formatMs, prettyJson } from '@/lib/format';
import { eventNote, providerLabel } from '@/lib/providers/catalog';
import { deliveryOptions } from '@/lib/queries/deliveries';

export function DeliveryClient({ id }: { id: number }) {
  const q = useQuery(deliveryOptions(id));
  const d = q.data;
  const body = d ? prettyJson(d.body) : '';
  const headers = d ? JSON.stringify(d.headers, null, 2) : '';

  return (
    <>
      <div className="page-head">
        <div>
          <Link href="/deliveries">← Deliveries</Link>
          <h1>Delivery {d?.delivery_id ?? `#${id}`}</h1>
        </div>
        {d?.delivery_id && <ButtonCopy text={d.delivery_id} label="Copy delivery id" />}
      </div>
      {q.isPending ? (
        <div className="panel">
          <StateLoading label="Loading delivery" rows={6} />
        </div>
      ) : q.isError ? (
        <div className="panel">
          <StateError error={q.error} onRetry={() => q.refetch()} />
        </div>
      ) : (
        d && (
          <div className="split">
            <div>
              <section className="panel" aria-label="Summary">
                <dl className="kv">
                  <dt>Outcome</dt>
                  <dd>
                    <BadgeStatus value={d.outcome} /> {d.reason}
                  </dd>
                  <dt>Source</dt>
                  <dd>
                    {d.source} · {d.provider ? providerLabel(d.provider) : 'unknown source'}
                  </dd>
                  <dt>Event type</dt>
                  <dd>
                    {d.event_type ?? '—'}
                    {d.provider && d.event_type && eventNote(d.provider, d.event_type) && (
                      <> · {eventNote(d.provider, d.event_type)}</>
                    )}
                  </dd>
                  {d.attempt_id && d.attempt_id !== d.delivery_id && (
                    <>
                      <dt>Attempt id</dt>
                      <dd className="mono">{d.attempt_id}</dd>
                    </>
                  )}
                  <dt>HTTP status</dt>
                  <dd>{d.http_status}</dd>
                  <dt>Received</dt>
                  <dd>
                    <TextTime iso={d.received_at} />
                  </dd>
                  <dt>Provider time</dt>
                  <dd>
                    <TextTime iso={d.provider_ts} />
                  </dd>
                  <dt>Ack</dt>
                  <dd>{formatMs(d.ack_ms)}</dd>
                  <dt>Lag</dt>
                  <dd>{formatMs(d.lag_ms)}</dd>
                  <dt>Event</dt>
                  <dd>
                    {d.event ? (
                      <>
                        #{d.event.id}{' '}
                        {d.event.status === 'dead' ? (
                          <Link
                            href={`/dlq?q=${encodeURIComponent(d.event.delivery_id)}&selected=${d.event.id}`}
                            aria-label="Open its dead letter"
                          >
                            <BadgeStatus value="dead" />
                          </Link>
                        ) : (
                          <BadgeStatus value={d.event.status} />
                        )}
                      </>
                    ) : (
                      'none (not queued)'
                    )}
                    {d.reason === 'fingerprint' && d.event?.delivery_id !== d.delivery_id && (
                      <ButtonEnqueueDuplicate id={d.id} ownerEventId={d.event?.id ?? null} />
                    )}
                  </dd>
                  {d.secret_id !== null && (
                    <>
                      <dt>Matched secret</dt>
                      <dd className="mono">#{d.secret_id}</dd>
                    </>
                  )}
                </dl>
              </section>
              {d.forensics && <PanelSignatureForensics forensics={d.forensics} />}
              <section aria-labelledby="body-title">
                <div className="section-head">
                  <h2 id="body-title">Body</h2>
                  <ButtonCopy text={d.body ?? ''} label="Copy body" />
                </div>
                {d.body === null ? (
                  <p className="muted">No body kept for this request.</p>
                ) : (
                  // Rendered as text: a payload containing markup must never become markup.
                  <pre className="code">{body}</pre>
                )}
              </section>
              <PanelPayloadDiff id={d.id} />
              <section aria-labelledby="headers-title">
                <div className="section-head">
                  <h2 id="headers-title">Headers</h2>
                  <ButtonCopy text={headers} label="Copy headers" />
                </div>
                <pre className="code">{headers}</pre>
              </section>
            </div>
            <section className="panel" aria-label="Processing">
              <h2>Timeline</h2>
              <TimelineDelivery delivery={d} />
            </section>
          </div>
        )
      )}
    </>
  );
}
