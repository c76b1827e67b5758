'use client';

import { useQuery } from '@tanstack/react-query';
import { deliveryDiffOptions } from '@/lib/queries/payload';
import { SectionPayloadComparison } from './section-payload-comparison';
import { StateError } from './state-error';
import { StateLoading } from './state-loading';

/** What changed in this payload: against the previous delivery about the same object, and the original. */
export function PanelPayloadDiff({ id }: { id: number }) {
  const q = useQuery(deliveryDiffOptions(id));
  return (
    <section aria-labelledby="diff-title">
      <div className="section-head">
        <h2 id="diff-title">Payload changes</h2>
      </div>
      {q.isPending ? (
        <StateLoading label="Loading payload changes" rows={2} />
      ) : q.isError ? (
        <StateError error={q.error} onRetry={() => q.refetch()} />
      ) : (
        <>
          {q.data.previous ? (
            <SectionPayloadComparison
              title={`Since the previous delivery about ${q.data.object?.entity} ${q.data.object?.id}`}
              c={q.data.previous}
              label="Changes since the previous delivery"
            />
          ) : (
            <p className="muted">
              {q.data.object
                ? `No earlier delivery about ${q.data.object.entity} ${q.data.object.id} in the last 30 days.`
                : 'This payload names no object (no data.<entity>.id) to compare with.'}
            </p>
          )}
          {q.data.original && (
            <SectionPayloadComparison
              title="Against the original delivery"
              c={q.data.original}
              label="Changes against the original delivery"
            />
          )}
        </>
      )}
    </section>
  );
}
