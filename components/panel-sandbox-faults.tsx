'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { SandboxFault } from '@/lib/providers/types';
import { sandboxFaultsOptions, setSandboxFaultRequest } from '@/lib/queries/alerts';
import { useLocked } from './note-role';
import { describeApiError } from './state-error';

const FAULTS: Array<{ fault: SandboxFault; label: string; alert: string }> = [
  { fault: 'webhook_disabled', label: 'Disable the webhook on the provider', alert: 'webhook_disabled' },
  { fault: 'webhook_repointed', label: 'Point the webhook elsewhere', alert: 'webhook_disabled' },
  { fault: 'wrong_secret', label: 'Sign with a wrong secret', alert: 'signature_failures' },
  { fault: 'silence', label: 'Stop message.received', alert: 'silence' },
];

/**
 * Sandbox mode only: provider-side faults to watch each alert open and, once switched back, resolve
 * (within the evaluation interval, plus the clear period for resolving).
 */
export function PanelSandboxFaults() {
  const qc = useQueryClient();
  const q = useQuery(sandboxFaultsOptions());
  const locked = useLocked('operator');
  const flip = useMutation({
    mutationFn: (v: { fault: SandboxFault; on: boolean }) => setSandboxFaultRequest(v.fault, v.on),
    onSuccess: (data) => qc.setQueryData(sandboxFaultsOptions().queryKey, data),
  });
  if (!q.data) return null;
  const faults = q.data;
  return (
    <section className="panel" aria-label="Sandbox faults">
      <div className="section-head">
        <h2>Sandbox: provider-side faults</h2>
      </div>
      <p className="muted">
        Each switch does on the simulated provider what would happen in its own dashboard; the alert named
        beside it opens within the evaluation interval and resolves once the switch is back off.
      </p>
      <div className="row" style={{ flexWrap: 'wrap', gap: '1rem' }}>
        {FAULTS.map((f) => (
          <label key={f.fault} className="row">
            <button
              type="button"
              role="switch"
              className="switch"
              aria-checked={faults[f.fault]}
              aria-label={f.label}
              disabled={locked !== undefined || flip.isPending}
              title={locked}
              onClick={() => flip.mutate({ fault: f.fault, on: !faults[f.fault] })}
            />
            <span>
              {f.label} <span className="mono muted">→ {f.alert}</span>
            </span>
          </label>
        ))}
      </div>
      {flip.isError && <p role="alert">{describeApiError(flip.error).detail}</p>}
    </section>
  );
}
