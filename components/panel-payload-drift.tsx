'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { DRIFT_RULES } from '@/lib/payload/drift';
import { type PayloadDriftFilters, payloadDriftOptions } from '@/lib/queries/payload';
import { StateEmpty } from './state-empty';
import { StateError } from './state-error';
import { StateLoading } from './state-loading';
import { TextTime } from './text-time';
import { TextTimeZone } from './text-time-zone';

const KIND_LABELS = {
  new_field: 'new field',
  missing_field: 'missing field',
  type_change: 'type change',
} as const;
const KIND_TONES = { new_field: 'info', missing_field: 'bad', type_change: 'warn' } as const;

/** Payload shape changes per source and event type, each with the first delivery that showed it. */
export function PanelPayloadDrift({ filters }: { filters: PayloadDriftFilters }) {
  const q = useQuery(payloadDriftOptions(filters));
  return (
    <section className="panel" aria-labelledby="drift-title" style={{ marginBottom: '1rem' }}>
      <h2 id="drift-title">Payload changes</h2>
      {q.isPending ? (
        <StateLoading label="Loading payload changes" rows={2} />
      ) : q.isError ? (
        <StateError error={q.error} onRetry={() => q.refetch()} />
      ) : q.data.length === 0 ? (
        <StateEmpty title="No payload changes in this range">
          Each event type’s shape is learned from its first {DRIFT_RULES.BASELINE} deliveries; a new field, a
          type change or a field that stops arriving shows here.
        </StateEmpty>
      ) : (
        <div className="table-wrap">
          <table aria-label="Payload changes">
            <thead>
              <tr>
                <th scope="col">
                  Detected (<TextTimeZone />)
                </th>
                <th scope="col">Source</th>
                <th scope="col">Event type</th>
                <th scope="col">Change</th>
                <th scope="col">Field</th>
                <th scope="col">First delivery</th>
              </tr>
            </thead>
            <tbody>
              {q.data.map((d) => (
                <tr key={d.id}>
                  <td className="time">
                    <TextTime iso={d.detected_at} />
                  </td>
                  <td>{d.source}</td>
                  <td>{d.event_type}</td>
                  <td>
                    <span className="badge" data-tone={KIND_TONES[d.kind]}>
                      {KIND_LABELS[d.kind]}
                    </span>{' '}
                    {d.detail}
                  </td>
                  <td className="mono">{d.path}</td>
                  <td>
                    {d.receipt_id === null ? (
                      `event #${d.event_id}`
                    ) : (
                      <Link href={`/deliveries/${d.receipt_id}`}>event #{d.event_id}</Link>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
