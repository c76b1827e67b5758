'use client';

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useQueryStates } from 'nuqs';
import { useEffect, useRef, useState } from 'react';
import { ButtonLoadMore } from '@/components/button-load-more';
import { DialogConfirm } from '@/components/dialog-confirm';
import { FormContentSearch } from '@/components/form-content-search';
import { FormSearch } from '@/components/form-search';
import { LinkExport } from '@/components/link-export';
import { NoteRole, useLocked } from '@/components/note-role';
import { PanelDeadLetter } from '@/components/panel-dead-letter';
import { PanelRetryPreview } from '@/components/panel-retry-preview';
import { PanelSandboxOutage } from '@/components/panel-sandbox-outage';
import { PickerTimeRange } from '@/components/picker-time-range';
import { SelectEventType } from '@/components/select-event-type';
import { SelectSource } from '@/components/select-source';
import { StateEmpty } from '@/components/state-empty';
import { describeApiError, StateError } from '@/components/state-error';
import { StateLoading } from '@/components/state-loading';
import { TableDlq } from '@/components/table-dlq';
import type { FAILURE_CLASSES } from '@/db/filters';
import {
  discardDeadLetterRequest,
  dlqApiFilter,
  dlqCountOptions,
  dlqListOptions,
  retryDeadLetterRequest,
  retryDeadLettersRequest,
} from '@/lib/queries/dlq';
import { dlqParsers } from './search-params';

type Pending = { kind: 'all' } | { kind: 'selected'; ids: number[] } | { kind: 'discard'; id: number };

export function DlqClient({ retentionDays }: { retentionDays: number }) {
  const [params, set] = useQueryStates(dlqParsers);
  const qc = useQueryClient();
  const filters = {
    source: params.source,
    event_type: params.event_type,
    error: params.error,
    q: params.q,
    failure: params.failure,
    range: params.range,
    from: params.from,
    to: params.to,
    text: params.text,
    path: params.path,
    value: params.value,
  };
  const announce = useRef<HTMLDivElement>(null);
  const list = useInfiniteQuery(dlqListOptions({ ...filters, sort: params.sort }));
  const rows = list.data?.pages.flatMap((p) => p.data) ?? [];
  const [checked, setChecked] = useState<Set<number>>(new Set());
  const [confirm, setConfirm] = useState<Pending | null>(null);
  const [excludeSuperseded, setExcludeSuperseded] = useState(false);
  const [result, setResult] = useState<{ tone: 'ok' | 'bad'; text: string } | null>(null);
  const count = useQuery({ ...dlqCountOptions(filters), enabled: confirm?.kind === 'all' });
  // A count from an earlier opening is not shown (nor acted on) while the fresh one comes in.
  const counting = count.isPending || count.isFetching;
  const filtered = Boolean(
    params.source ||
      params.event_type ||
      params.error ||
      params.q ||
      params.failure ||
      params.text ||
      params.path ||
      params.from ||
      params.to ||
      params.range !== 'all',
  );
  // Checked rows belong to the list they were checked in: a new filter starts a new selection, so
  // "Retry selected" never includes rows out of sight.
  const filterKey = JSON.stringify(filters);
  useEffect(() => {
    void filterKey;
    setChecked(new Set());
  }, [filterKey]);

  const refresh = () =>
    Promise.all(['dlq', 'metrics', 'deliveries'].map((k) => qc.invalidateQueries({ queryKey: [k] })));
  const act = useMutation({
    mutationFn: async (p: Pending) => {
      if (p.kind === 'discard') {
        await discardDeadLetterRequest(p.id);
        return `Discarded event ${p.id}.`;
      }
      const matched = await retryDeadLettersRequest(
        p.kind === 'all' ? { ...filters, exclude_superseded: excludeSuperseded } : { ids: p.ids },
      );
      return `Re-queued ${matched} dead letter${matched === 1 ? '' : 's'}; the worker picks them up now.`;
    },
    onSuccess: (text, p) => {
      setResult({ tone: 'ok', text });
      setChecked(new Set());
      if (p.kind === 'discard') closeAndAnnounce();
    },
    onError: (err) => {
      const e = describeApiError(err);
      setResult({ tone: 'bad', text: `${e.title}: ${e.detail}` });
    },
    onSettled: () => {
      setConfirm(null);
      return refresh();
    },
  });
  const retryOne = useMutation({
    mutationFn: (id: number) => retryDeadLetterRequest(id),
    onSuccess: (_d, id) => {
      setResult({ tone: 'ok', text: `Re-queued event ${id}.` });
      closeAndAnnounce();
    },
    onError: (err) => setResult({ tone: 'bad', text: describeApiError(err).detail }),
    onSettled: refresh,
  });

  // The row that opened the panel leaves the list once its event is re-queued or discarded: the
  // focus goes to the message saying what happened instead of being lost. Only once the panel is
  // gone: while the modal is open, everything outside it is inert and cannot take the focus.
  const [announceNext, setAnnounceNext] = useState(false);
  function closeAndAnnounce() {
    setAnnounceNext(true);
    void set({ selected: null });
  }
  useEffect(() => {
    if (!announceNext || params.selected !== null) return;
    announce.current?.focus();
    setAnnounceNext(false);
  }, [announceNext, params.selected]);

  const toggle = (id: number, on: boolean) =>
    setChecked((s) => {
      const next = new Set(s);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  const busy = act.isPending || retryOne.isPending;
  const locked = useLocked('operator');

  return (
    <>
      <div className="page-head">
        <h1>Dead letters</h1>
        <div className="row">
          <button
            type="button"
            disabled={checked.size === 0 || busy || !!locked}
            title={locked}
            onClick={() => setConfirm({ kind: 'selected', ids: [...checked] })}
          >
            Retry selected ({checked.size})
          </button>
          <button
            type="button"
            className="primary"
            disabled={rows.length === 0 || busy || !!locked}
            title={locked}
            onClick={() => {
              setExcludeSuperseded(false);
              setConfirm({ kind: 'all' });
            }}
          >
            Retry all matching…
          </button>
        </div>
      </div>
      <NoteRole needed="operator" what="retry and discard" />
      <div className="toolbar" style={{ marginBottom: '0.75rem' }}>
        <PickerTimeRange
          value={params}
          onChange={({ range, from, to }) => set({ range, from, to, selected: null })}
          extra={[{ value: 'all', label: 'All time' }]}
        />
        <SelectSource value={params.source} onChange={(source) => set({ source, selected: null })} />
        <SelectEventType value={params.event_type} onChange={(event_type) => set({ event_type })} />
        <label className="field">
          Failure
          <select
            aria-label="Failure"
            value={params.failure ?? ''}
            onChange={(e) =>
              set({ failure: (e.target.value || null) as (typeof FAILURE_CLASSES)[number] | null })
            }
          >
            <option value="">Transient and permanent</option>
            <option value="transient">Transient (a retry may work)</option>
            <option value="permanent">Permanent (fails again until fixed)</option>
          </select>
        </label>
        <label className="field">
          Order
          <select
            aria-label="Order"
            value={params.sort ?? 'newest'}
            onChange={(e) => set({ sort: e.target.value === 'expiring' ? 'expiring' : null })}
          >
            <option value="newest">Newest first</option>
            <option value="expiring">Receipts expiring first</option>
          </select>
        </label>
        <FormSearch
          label="Error contains"
          button="Filter"
          initial={params.error}
          onSearch={(error) => set({ error })}
        />
        <FormSearch
          label="Delivery id"
          button="Find"
          initial={params.q}
          placeholder="whole id or its start"
          onSearch={(q) => set({ q })}
        />
        <FormContentSearch initial={params} onSearch={(content) => set(content)} />
        <LinkExport endpoint="/api/dlq/export" filter={dlqApiFilter(filters)} />
      </div>
      <PanelSandboxOutage />
      <div ref={announce} tabIndex={-1} role="status" className="status-slot">
        {result && (
          <div className="alert" data-tone={result.tone}>
            {result.text}
          </div>
        )}
      </div>
      <div className="table-wrap">
        {list.isPending ? (
          <StateLoading label="Loading dead letters" rows={5} />
        ) : list.isError ? (
          <StateError error={list.error} onRetry={() => list.refetch()} />
        ) : rows.length === 0 ? (
          <StateEmpty title="No dead letters">
            {filtered
              ? 'Nothing matches these filters.'
              : 'Every event was processed or is still being retried.'}
          </StateEmpty>
        ) : (
          <>
            <TableDlq
              rows={rows}
              retentionDays={retentionDays}
              selected={params.selected}
              checked={checked}
              onToggle={toggle}
              onOpen={(id) => {
                setResult(null);
                void set({ selected: id });
              }}
            />
            {list.hasNextPage && (
              <div className="table-foot">
                <ButtonLoadMore list={list} />
              </div>
            )}
          </>
        )}
      </div>
      {params.selected && (
        <PanelDeadLetter
          id={params.selected}
          busy={busy}
          locked={locked}
          error={result?.tone === 'bad' ? result.text : null}
          onRetry={(id) => retryOne.mutate(id)}
          onDiscard={(id) => setConfirm({ kind: 'discard', id })}
          onClose={() => set({ selected: null })}
        />
      )}
      {confirm && (
        <DialogConfirm
          title={
            confirm.kind === 'all'
              ? 'Retry all matching dead letters?'
              : confirm.kind === 'selected'
                ? `Retry ${confirm.ids.length} selected?`
                : `Discard event ${confirm.id}?`
          }
          confirmLabel={confirm.kind === 'discard' ? 'Discard' : 'Retry'}
          danger={confirm.kind === 'discard'}
          busy={act.isPending || (confirm.kind === 'all' && counting)}
          onCancel={() => setConfirm(null)}
          onConfirm={() => act.mutate(confirm)}
        >
          {confirm.kind === 'all' ? (
            counting ? (
              <p>Counting…</p>
            ) : count.isError ? (
              <p>Could not count the matching dead letters: {describeApiError(count.error).detail}</p>
            ) : (
              <>
                <p>
                  <strong>{count.data.matched}</strong> dead letter{count.data.matched === 1 ? '' : 's'} match
                  {filtered ? ' the current filters' : ''} (all pages, not just this one). They go back to the
                  queue with a fresh set of automatic attempts; their history is kept.
                </p>
                <ul aria-label="By failure">
                  <li>
                    <strong>{count.data.transient}</strong> transient: may be processed now, if what failed (a
                    downstream, a timeout) has recovered.
                  </li>
                  <li>
                    <strong>{count.data.permanent}</strong> permanent: will fail again until the code or the
                    data changes.
                    {count.data.permanent > 0 &&
                      !params.failure &&
                      ' Filter on "Transient" to leave them out.'}
                  </li>
                </ul>
                <PanelRetryPreview
                  filters={filters}
                  exclude={excludeSuperseded}
                  onExclude={setExcludeSuperseded}
                />
              </>
            )
          ) : confirm.kind === 'selected' ? (
            <p>
              The selected events go back to the queue with a fresh set of attempts; their history is kept.
            </p>
          ) : (
            <p>The event stays in the database for audit but will never be retried.</p>
          )}
        </DialogConfirm>
      )}
    </>
  );
}
