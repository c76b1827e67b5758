'use client';

import { useMutation, useQuery } from '@tanstack/react-query';
import { healthOptions } from '@/lib/queries/health';
import { plantSandboxLossesRequest } from '@/lib/queries/reconciliation';
import { useLocked } from './note-role';
import { describeApiError } from './state-error';

/**
 * Sandbox mode only: makes the sandbox lose a few deliveries (refused with a wrong secret, dropped on
 * the way) until it gives up, so a new user sees every class after the next run.
 */
export function ButtonSandboxLosses({ onPlanted }: { onPlanted: () => void }) {
  const health = useQuery(healthOptions());
  const locked = useLocked('operator');
  const plant = useMutation({ mutationFn: plantSandboxLossesRequest, onSuccess: onPlanted });
  if (!health.data?.sandbox) return null;
  return (
    <>
      <button
        type="button"
        onClick={() => plant.mutate()}
        disabled={plant.isPending || !!locked}
        title={
          locked ?? 'Sandbox: send events whose deliveries are refused or dropped until the sandbox gives up'
        }
      >
        {plant.isPending ? 'Planting…' : 'Sandbox: lose some deliveries'}
      </button>
      {plant.isError && <span role="alert">{describeApiError(plant.error).detail}</span>}
      {plant.isSuccess && (
        <span className="muted" role="status">
          Planted {plant.data.rejected.length} refused, {plant.data.dropped.length} dropped,{' '}
          {plant.data.recovered.length} refused once. Run again in a minute.
        </span>
      )}
    </>
  );
}
