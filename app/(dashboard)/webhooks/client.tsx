'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useQueryStates } from 'nuqs';
import { useState } from 'react';
import { DialogConfirm } from '@/components/dialog-confirm';
import { NoteRole, useLocked } from '@/components/note-role';
import { PanelProviderDeliveries } from '@/components/panel-provider-deliveries';
import { PanelSources } from '@/components/panel-sources';
import { StateEmpty } from '@/components/state-empty';
import { describeApiError, StateError } from '@/components/state-error';
import { StateLoading } from '@/components/state-loading';
import { TableWebhooks } from '@/components/table-webhooks';
import type { CatalogName } from '@/lib/providers/catalog';
import type { ProviderWebhook } from '@/lib/queries/types';
import { setWebhookActiveRequest, webhooksOptions } from '@/lib/queries/webhooks';
import { webhooksParsers } from './search-params';

type ProviderInfo = { name: CatalogName; label: string; managed: boolean };

export function WebhooksClient({ providers }: { providers: ProviderInfo[] }) {
  // Provider-side webhooks come from the first provider with a management API.
  const managed = providers.find((p) => p.managed);
  const [params, set] = useQueryStates(webhooksParsers);
  const qc = useQueryClient();
  const list = useQuery(webhooksOptions());
  const [confirm, setConfirm] = useState<ProviderWebhook | null>(null);
  const [message, setMessage] = useState<{ tone: 'ok' | 'bad'; text: string } | null>(null);
  const key = webhooksOptions().queryKey;

  // Optimistic: the switch flips at once and flips back if the provider refuses.
  const toggle = useMutation({
    mutationFn: (v: { id: number; is_active: boolean }) => setWebhookActiveRequest(v.id, v.is_active),
    onMutate: async (v) => {
      setConfirm(null);
      await qc.cancelQueries({ queryKey: key });
      const before = qc.getQueryData(key);
      qc.setQueryData(key, (old) => old?.map((w) => (w.id === v.id ? { ...w, is_active: v.is_active } : w)));
      return { before };
    },
    onError: (err, _v, ctx) => {
      if (ctx?.before) qc.setQueryData(key, ctx.before);
      const e = describeApiError(err);
      setMessage({ tone: 'bad', text: `${e.title}: ${e.detail} The change was rolled back.` });
    },
    onSuccess: (w) =>
      setMessage({
        tone: 'ok',
        text: `${w.name} is now ${w.is_active ? 'enabled' : 'disabled'} on ${managed?.label ?? 'the provider'}.`,
      }),
    onSettled: () => qc.invalidateQueries({ queryKey: ['webhooks'] }),
  });

  const locked = useLocked('operator');
  return (
    <>
      <div className="page-head">
        <h1>Webhooks</h1>
        <button type="button" onClick={() => list.refetch()} disabled={list.isFetching}>
          {list.isFetching ? 'Refreshing…' : 'Refresh'}
        </button>
      </div>
      <NoteRole needed="operator" what="enabling and disabling webhooks" />
      <PanelSources providers={providers} />
      <div className="section-head">
        <h2>Webhooks on {managed?.label ?? 'the provider'}</h2>
      </div>
      {message && (
        <div className="alert" data-tone={message.tone} role="status">
          {message.text}
        </div>
      )}
      <div className="table-wrap">
        {list.isPending ? (
          <StateLoading label="Loading webhooks" rows={3} />
        ) : list.isError ? (
          <StateError error={list.error} onRetry={() => list.refetch()} />
        ) : list.data.length === 0 ? (
          <StateEmpty title={`No webhooks on ${managed?.label ?? 'the provider'}`}>
            Create one in the provider's dashboard.
          </StateEmpty>
        ) : (
          <TableWebhooks
            webhooks={list.data}
            selected={params.webhook}
            busyId={toggle.isPending ? (toggle.variables?.id ?? null) : null}
            locked={locked}
            onToggle={setConfirm}
            onOpen={(id) => set({ webhook: id, status: null, page: 1 })}
          />
        )}
      </div>
      {params.webhook && managed && (
        <PanelProviderDeliveries
          provider={managed.name}
          webhookId={params.webhook}
          filters={{ status: params.status ?? undefined, page: params.page }}
          onChange={(f) => set({ status: f.status ?? null, page: f.page ?? 1 })}
        />
      )}
      {confirm && (
        <DialogConfirm
          title={`${confirm.is_active ? 'Disable' : 'Enable'} ${confirm.name}?`}
          confirmLabel={confirm.is_active ? 'Disable' : 'Enable'}
          danger={confirm.is_active}
          onCancel={() => setConfirm(null)}
          onConfirm={() => toggle.mutate({ id: confirm.id, is_active: !confirm.is_active })}
        >
          {confirm.is_active ? (
            <p>
              {managed?.label} does <strong>not</strong> queue events for a disabled webhook: anything that
              happens while it is off is never delivered here, and will not arrive when you enable it again.
            </p>
          ) : (
            <p>
              {managed?.label} starts sending new events to {confirm.url} again. Events from while it was off
              do not arrive.
            </p>
          )}
        </DialogConfirm>
      )}
    </>
  );
}
