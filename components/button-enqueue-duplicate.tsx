'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { enqueueDelivery } from '@/lib/queries/deliveries';
import { DialogConfirm } from './dialog-confirm';
import { useLocked } from './note-role';
import { describeApiError } from './state-error';

/**
 * "Process as a new event" for a duplicate by content fingerprint: the fingerprint also matches a
 * genuinely new event whose data equals an earlier one, and only an operator can tell.
 */
export function ButtonEnqueueDuplicate({ id, ownerEventId }: { id: number; ownerEventId: number | null }) {
  const [open, setOpen] = useState(false);
  const locked = useLocked('operator');
  const client = useQueryClient();
  const enqueue = useMutation({
    mutationFn: () => enqueueDelivery(id),
    onSuccess: async () => {
      setOpen(false);
      await client.invalidateQueries({ queryKey: ['deliveries'] });
    },
  });
  return (
    <>
      <button
        type="button"
        disabled={!!locked}
        title={locked}
        onClick={() => {
          enqueue.reset();
          setOpen(true);
        }}
      >
        Process as a new event
      </button>
      {open && (
        <DialogConfirm
          title="Process this duplicate as a new event?"
          confirmLabel="Queue it"
          busy={enqueue.isPending}
          onConfirm={() => enqueue.mutate()}
          onCancel={() => setOpen(false)}
        >
          <p>
            Its data equals that of event {ownerEventId === null ? 'an earlier event' : `#${ownerEventId}`},
            received within the dedupe window, so it was taken for a retry. If it is a new event (the same
            values sent again on purpose), queue it: its handler runs once, and your name goes in the audit
            log.
          </p>
          {/* Inside the dialog: the page behind a modal is inert and its messages unseen. */}
          {enqueue.isError && (
            <p role="alert" className="alert" data-tone="bad">
              {describeApiError(enqueue.error).detail}
            </p>
          )}
        </DialogConfirm>
      )}
    </>
  );
}
