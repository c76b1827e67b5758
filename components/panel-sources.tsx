'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { createSourceRequest, patchSourceRequest, sourcesOptions } from '@/lib/queries/sources';
import type { SourceRowJson } from '@/lib/queries/types';
import { DialogConfirm } from './dialog-confirm';
import { FormSourceCreate, type ProviderOption } from './form-source-create';
import { NoteRole, useLocked } from './note-role';
import { PanelSourceSecrets } from './panel-source-secrets';
import { StateEmpty } from './state-empty';
import { describeApiError, StateError } from './state-error';
import { StateLoading } from './state-loading';
import { TableSources } from './table-sources';

/** The Webhooks page's sources section: list, add, enable and disable. */
export function PanelSources({ providers }: { providers: ProviderOption[] }) {
  const qc = useQueryClient();
  const list = useQuery(sourcesOptions());
  const [confirm, setConfirm] = useState<SourceRowJson | null>(null);
  const [managing, setManaging] = useState<string | null>(null);
  // Adding and switching sources is an admin's (the API refuses anyone else).
  const locked = useLocked('admin');
  const [message, setMessage] = useState<{ tone: 'ok' | 'bad'; text: string } | null>(null);
  const fail = (err: unknown) => {
    const e = describeApiError(err);
    setMessage({ tone: 'bad', text: `${e.title}: ${e.detail}` });
  };
  const create = useMutation({
    mutationFn: createSourceRequest,
    onSuccess: (s) =>
      setMessage({ tone: 'ok', text: `Source ${s.slug} added: point ${s.provider_label} at ${s.path}.` }),
    onError: fail,
    onSettled: () => qc.invalidateQueries({ queryKey: ['sources'] }),
  });
  const toggle = useMutation({
    mutationFn: (s: SourceRowJson) => patchSourceRequest(s.slug, { enabled: !s.enabled }),
    onMutate: () => setConfirm(null),
    onSuccess: (s) =>
      setMessage({ tone: 'ok', text: `Source ${s.slug} is now ${s.enabled ? 'enabled' : 'disabled'}.` }),
    onError: fail,
    onSettled: () => qc.invalidateQueries({ queryKey: ['sources'] }),
  });

  return (
    <section aria-label="Sources">
      <div className="section-head">
        <h2>Sources</h2>
      </div>
      {message && (
        <div className="alert" data-tone={message.tone} role="status">
          {message.text}
        </div>
      )}
      <div className="table-wrap">
        {list.isPending ? (
          <StateLoading label="Loading sources" rows={2} />
        ) : list.isError ? (
          <StateError error={list.error} onRetry={() => list.refetch()} />
        ) : list.data.length === 0 ? (
          <StateEmpty title="No sources">Add one below, or set a provider's secret variable.</StateEmpty>
        ) : (
          <TableSources
            sources={list.data}
            busySlug={toggle.isPending ? (toggle.variables?.slug ?? null) : null}
            locked={locked}
            onToggle={setConfirm}
            onManage={(s) => setManaging(s.slug)}
          />
        )}
      </div>
      {managing && <PanelSourceSecrets slug={managing} onClose={() => setManaging(null)} />}
      <NoteRole needed="admin" what="adding and switching sources" />
      <FormSourceCreate
        providers={providers}
        busy={create.isPending}
        locked={locked}
        onCreate={(v) => create.mutateAsync(v)}
      />
      {confirm && (
        <DialogConfirm
          title={`${confirm.enabled ? 'Disable' : 'Enable'} source ${confirm.slug}?`}
          confirmLabel={confirm.enabled ? 'Disable' : 'Enable'}
          danger={confirm.enabled}
          onCancel={() => setConfirm(null)}
          onConfirm={() => toggle.mutate(confirm)}
        >
          {confirm.enabled ? (
            <p>
              Deliveries to {confirm.path} are refused with 410 Gone while it is off (and recorded). The
              provider sees failures and retries on its own schedule.
            </p>
          ) : (
            <p>Deliveries to {confirm.path} are accepted again.</p>
          )}
        </DialogConfirm>
      )}
    </section>
  );
}
