'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { sandboxDownstreamQuery, setSandboxOutage } from '@/lib/queries/sandbox';
import { useLocked } from './note-role';
import { describeApiError } from './state-error';

/**
 * Sandbox mode only: the demo's downstream (where the example handlers post notifications) and its
 * outage switch. During the outage notifications fail, so their events are retried and then
 * dead-lettered as transient; once it ends, retrying those dead letters processes them.
 */
export function PanelSandboxOutage() {
  const qc = useQueryClient();
  const locked = useLocked('operator');
  const q = useQuery(sandboxDownstreamQuery());
  const flip = useMutation({
    mutationFn: setSandboxOutage,
    onSuccess: (data) => qc.setQueryData(sandboxDownstreamQuery().queryKey, data),
  });
  if (!q.data) return null;
  const on = q.data.outage;
  return (
    <section className="alert" data-tone={on ? 'bad' : undefined} aria-label="Sandbox downstream">
      <div className="row" style={{ justifyContent: 'space-between', flexWrap: 'wrap' }}>
        <p style={{ margin: 0 }}>
          {on ? (
            <>
              <strong>Sandbox: the downstream is down</strong> (a simulated outage of the notification sink).
              Notifications from <code>message.received</code> and <code>booking.created</code> fail, so those
              events are retried and then dead-lettered as <em>transient</em>. End the outage, then retry
              them.
            </>
          ) : (
            <>
              <strong>Sandbox: the downstream is up.</strong> Start an outage to see transient failures
              dead-letter, then end it and retry them.
            </>
          )}
        </p>
        <button
          type="button"
          className={on ? 'primary' : undefined}
          disabled={flip.isPending || !!locked}
          title={locked}
          onClick={() => flip.mutate(!on)}
        >
          {on ? 'End the outage' : 'Start an outage'}
        </button>
      </div>
      {flip.isError && <p role="alert">{describeApiError(flip.error).detail}</p>}
    </section>
  );
}
