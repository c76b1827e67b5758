'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { formatAge } from '@/lib/format';
import {
  addSecretRequest,
  retireSecretRequest,
  rotateSecretRequest,
  sourceSecretsOptions,
} from '@/lib/queries/sources';
import type { SourceSecretsJson } from '@/lib/queries/types';
import { serverClock } from '@/lib/server-clock';
import { DialogConfirm } from './dialog-confirm';
import { useLocked } from './note-role';
import { describeApiError, StateError } from './state-error';
import { StateLoading } from './state-loading';
import { TableSecrets } from './table-secrets';

type Secret = SourceSecretsJson['secrets'][number];

const OVERLAPS = [
  { seconds: 3_600, label: '1 hour' },
  { seconds: 86_400, label: '24 hours' },
  { seconds: 7 * 86_400, label: '7 days' },
] as const;

/**
 * Rotation for one source: regenerate at the provider (or paste a new secret), keep the old one for
 * an overlap, watch when it was last used and its share of recent deliveries, retire it.
 */
export function PanelSourceSecrets({ slug, onClose }: { slug: string; onClose: () => void }) {
  const qc = useQueryClient();
  const view = useQuery(sourceSecretsOptions(slug));
  const locked = useLocked('operator');
  const [overlap, setOverlap] = useState(86_400);
  const [pasted, setPasted] = useState('');
  const [label, setLabel] = useState('');
  const [confirm, setConfirm] = useState<Secret | null>(null);
  const [message, setMessage] = useState<{ tone: 'ok' | 'bad'; text: string } | null>(null);
  const settle = {
    onError: (err: unknown) => {
      const e = describeApiError(err);
      setMessage({ tone: 'bad', text: `${e.title}: ${e.detail}` });
    },
    onSettled: () => qc.invalidateQueries({ queryKey: ['sources'] }),
  };
  const rotate = useMutation({
    mutationFn: () => rotateSecretRequest(slug, { overlap_seconds: overlap }),
    onSuccess: (v) => {
      qc.setQueryData(sourceSecretsOptions(slug).queryKey, v);
      setMessage({
        tone: 'ok',
        text: `New secret …${newest(v)?.last4} stored; the previous one stays accepted for ${OVERLAPS.find((o) => o.seconds === overlap)?.label}.`,
      });
    },
    ...settle,
  });
  const add = useMutation({
    mutationFn: () =>
      addSecretRequest(slug, { secret: pasted, label: label || undefined, overlap_seconds: overlap }),
    onSuccess: (v) => {
      setPasted('');
      setLabel('');
      qc.setQueryData(sourceSecretsOptions(slug).queryKey, v);
      setMessage({ tone: 'ok', text: `Secret …${newest(v)?.last4} added.` });
    },
    ...settle,
  });
  const retire = useMutation({
    mutationFn: (s: Secret) => retireSecretRequest(slug, s.id!),
    onMutate: () => setConfirm(null),
    onSuccess: (v, s) => {
      qc.setQueryData(sourceSecretsOptions(slug).queryKey, v);
      setMessage({ tone: 'ok', text: `Secret …${s.last4} retired: deliveries signed with it are refused.` });
    },
    ...settle,
  });
  const now = (view.dataUpdatedAt || Date.now()) + serverClock.offsetMs;

  return (
    <section className="panel" aria-label={`Signing secrets: ${slug}`}>
      <div className="section-head">
        <h2>Signing secrets: {slug}</h2>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      {message && (
        <div className="alert" data-tone={message.tone} role="status">
          {message.text}
        </div>
      )}
      {view.isPending ? (
        <StateLoading label="Loading secrets" rows={2} />
      ) : view.isError ? (
        <StateError error={view.error} onRetry={() => view.refetch()} />
      ) : (
        <>
          {readiness(view.data, now).map((line) => (
            <p key={line} className="readiness" data-testid="readiness">
              {line}
            </p>
          ))}
          <div className="table-wrap">
            <TableSecrets
              view={view.data}
              now={now}
              busyId={retire.isPending ? (retire.variables?.id ?? null) : null}
              locked={locked}
              onRetire={setConfirm}
            />
          </div>
          <form
            className="row"
            style={{ flexWrap: 'wrap', gap: '0.5rem', marginTop: '0.75rem' }}
            onSubmit={(e) => {
              e.preventDefault();
              if (view.data.can_rotate) rotate.mutate();
              else add.mutate();
            }}
          >
            {!view.data.can_rotate && (
              <>
                <label>
                  New secret{' '}
                  <input
                    type="password"
                    autoComplete="off"
                    value={pasted}
                    onChange={(e) => setPasted(e.target.value)}
                    required
                    minLength={16}
                  />
                </label>
                <label>
                  Label <input value={label} onChange={(e) => setLabel(e.target.value)} maxLength={100} />
                </label>
              </>
            )}
            <label>
              Keep the previous secret for{' '}
              <select value={overlap} onChange={(e) => setOverlap(Number(e.target.value))}>
                {OVERLAPS.map((o) => (
                  <option key={o.seconds} value={o.seconds}>
                    {o.label}
                  </option>
                ))}
              </select>
            </label>
            <button
              type="submit"
              className="primary"
              disabled={locked !== undefined || rotate.isPending || add.isPending}
              title={locked}
            >
              {view.data.can_rotate
                ? rotate.isPending
                  ? 'Rotating…'
                  : `Rotate at ${view.data.provider_label}`
                : add.isPending
                  ? 'Adding…'
                  : 'Add secret'}
            </button>
          </form>
        </>
      )}
      {confirm && (
        <DialogConfirm
          title={`Retire secret …${confirm.last4} now?`}
          confirmLabel="Retire now"
          danger
          onCancel={() => setConfirm(null)}
          onConfirm={() => retire.mutate(confirm)}
        >
          <p>
            Deliveries signed with it are refused from now on (every replica within seconds). It last matched{' '}
            {confirm.last_matched_at
              ? `${formatAge(now - Date.parse(confirm.last_matched_at))} ago`
              : 'never'}
            .
          </p>
        </DialogConfirm>
      )}
    </section>
  );
}

function newest(v: SourceSecretsJson): Secret | undefined {
  return v.secrets.filter((s) => s.status === 'active').at(-1);
}

/** "Old secret …abcd last used 3 h ago; 0 % of the last 1,000 deliveries." per secret in its overlap. */
function readiness(v: SourceSecretsJson, now: number): string[] {
  return v.secrets
    .filter((s) => s.status === 'expiring')
    .map((s) => {
      const used = s.last_matched_at
        ? `last used ${formatAge(now - Date.parse(s.last_matched_at))} ago`
        : 'never used';
      const pct = v.recent_total === 0 ? 0 : Math.round((100 * s.recent_matches) / v.recent_total);
      const window = Math.min(v.window, v.recent_total).toLocaleString('en-US');
      return `Old secret …${s.last4} ${used}; ${pct} % of the last ${window} deliveries.${pct === 0 ? ' Safe to retire.' : ''}`;
    });
}
