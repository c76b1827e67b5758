'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { DialogConfirm } from '@/components/dialog-confirm';
import { useLocked } from '@/components/note-role';
import { describeApiError } from '@/components/state-error';
import {
  type DeliveriesViewFilters,
  enqueueDeliveriesRequest,
  enqueuePreviewOptions,
} from '@/lib/queries/deliveries';

const list = (m: Record<string, number>) =>
  Object.entries(m).map(([k, n]) => (
    <li key={k}>
      <strong>{n}</strong> {k}
    </li>
  ));

/**
 * Queues every ignored or malformed delivery the view matches, after the operator fixed the cause,
 * with the dry run shown first.
 */
export function ButtonEnqueueMatching({ filters }: { filters: DeliveriesViewFilters }) {
  const [open, setOpen] = useState(false);
  const [result, setResult] = useState<string | null>(null);
  const locked = useLocked('operator');
  const qc = useQueryClient();
  const preview = useQuery({ ...enqueuePreviewOptions(filters), enabled: open });
  const act = useMutation({
    mutationFn: () => enqueueDeliveriesRequest(filters),
    onSuccess: (r) =>
      setResult(
        `Queued ${r.created ?? 0} new event(s); ${r.existing ?? 0} matched an event already queued (the same delivery or content).`,
      ),
    onError: (err) => setResult(describeApiError(err).detail),
    onSettled: () => {
      setOpen(false);
      return qc.invalidateQueries({ queryKey: ['deliveries'] });
    },
  });
  return (
    <>
      <button type="button" disabled={!!locked} title={locked} onClick={() => setOpen(true)}>
        Queue ignored and malformed…
      </button>
      {result && (
        <span role="status" className="muted">
          {result}
        </span>
      )}
      {open && (
        <DialogConfirm
          title="Queue the matching ignored and malformed deliveries?"
          confirmLabel="Queue"
          busy={act.isPending || preview.isPending || preview.isFetching}
          onCancel={() => setOpen(false)}
          onConfirm={() => act.mutate()}
        >
          {preview.isPending || preview.isFetching ? (
            <p>Checking what would be queued…</p>
          ) : preview.isError ? (
            <p>Could not preview: {describeApiError(preview.error).detail}</p>
          ) : (
            <section aria-label="Enqueue preview">
              <p>
                Dry run: <strong>{preview.data.matched}</strong> ignored or malformed deliveries match;{' '}
                <strong>{preview.data.ready}</strong> can be queued now ({preview.data.already_queued} were
                queued before and are left out). Rejected deliveries are never queued.
              </p>
              <ul aria-label="By event type">{list(preview.data.by_event_type)}</ul>
              {Object.keys(preview.data.failing).length > 0 && (
                <ul aria-label="Still failing">{list(preview.data.failing)}</ul>
              )}
            </section>
          )}
        </DialogConfirm>
      )}
    </>
  );
}
