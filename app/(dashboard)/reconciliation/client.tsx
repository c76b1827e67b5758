'use client';

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useQueryStates } from 'nuqs';
import { useMemo } from 'react';
import { ButtonLoadMore } from '@/components/button-load-more';
import { ButtonSandboxLosses } from '@/components/button-sandbox-losses';
import { GridReconciliationCounts } from '@/components/grid-reconciliation-counts';
import { NoteRole, useLocked } from '@/components/note-role';
import { PickerTimeRange } from '@/components/picker-time-range';
import { StateEmpty } from '@/components/state-empty';
import { describeApiError, StateError } from '@/components/state-error';
import { StateLoading } from '@/components/state-loading';
import { TableReconciliation } from '@/components/table-reconciliation';
import { TextTime } from '@/components/text-time';
import { RECONCILIATION_CLASSES } from '@/db/schema';
import {
  type ReconciliationFilters,
  reconciliationExportUrl,
  reconciliationListOptions,
  reconciliationSummaryOptions,
  runReconciliationRequest,
} from '@/lib/queries/reconciliation';
import { reconciliationParsers } from './search-params';

export function ReconciliationClient() {
  const [params, set] = useQueryStates(reconciliationParsers);
  const qc = useQueryClient();
  const locked = useLocked('operator');
  const scope = useMemo(
    () => ({
      source: params.source ?? undefined,
      webhook_id: params.webhook ?? undefined,
      range: params.range,
      from: params.from,
      to: params.to,
    }),
    [params],
  );
  const filters: ReconciliationFilters = useMemo(
    () => ({ ...scope, class: params.class ?? undefined }),
    [scope, params.class],
  );
  const summary = useQuery(reconciliationSummaryOptions(scope));
  const list = useInfiniteQuery(reconciliationListOptions(filters));
  const run = useMutation({
    mutationFn: runReconciliationRequest,
    onSuccess: () => qc.invalidateQueries({ queryKey: ['reconciliation'] }),
  });
  const rows = list.data?.pages.flatMap((p) => p.data) ?? [];
  const lastRun = summary.data?.runs[0];
  const webhooks = summary.data?.webhooks ?? [];
  return (
    <>
      <div className="page-head">
        <h1>Reconciliation</h1>
        <div className="row">
          <ButtonSandboxLosses onPlanted={() => qc.invalidateQueries({ queryKey: ['reconciliation'] })} />
          {/* The range is resolved when clicked: a preset then ends now, not when the page opened. */}
          <a
            className="button"
            href={reconciliationExportUrl({ ...filters, class: 'provider_failed' }, 'csv')}
            onClick={(e) => {
              e.currentTarget.href = reconciliationExportUrl({ ...filters, class: 'provider_failed' }, 'csv');
            }}
            download
          >
            Export lost events (CSV)
          </a>
          <a
            className="button"
            href={reconciliationExportUrl(filters, 'csv')}
            onClick={(e) => {
              e.currentTarget.href = reconciliationExportUrl(filters, 'csv');
            }}
            download
          >
            Export view (CSV)
          </a>
          <button
            type="button"
            className="primary"
            onClick={() => run.mutate()}
            disabled={run.isPending || !!locked}
            title={locked}
          >
            {run.isPending ? 'Starting…' : 'Run now'}
          </button>
        </div>
      </div>
      <NoteRole needed="operator" what="runs" />
      <p className="muted" style={{ marginTop: 0 }}>
        The provider&apos;s own delivery log, matched to what reached us. The provider retries a failed
        delivery a few times on its schedule and then gives up for good: act on the amber rows before their
        time runs out; red rows are lost and can only be backfilled through the provider&apos;s API.{' '}
        {lastRun ? (
          <span data-testid="last-run">
            Last run <TextTime iso={lastRun.started_at} />: {lastRun.state}, {lastRun.provider_rows} log rows,{' '}
            {lastRun.pages} page{lastRun.pages === 1 ? '' : 's'}
            {lastRun.rate_limited > 0 ? `, waited out ${lastRun.rate_limited} rate limits` : ''}
            {lastRun.error ? ` (${lastRun.error})` : ''}.
          </span>
        ) : (
          <span data-testid="last-run">No run yet.</span>
        )}
      </p>
      {run.isError && <p role="alert">{describeApiError(run.error).detail}</p>}
      {summary.data && <GridReconciliationCounts counts={summary.data.counts} />}
      <div className="toolbar" style={{ margin: '0.75rem 0' }}>
        <label className="field">
          Webhook
          <select
            value={params.webhook === null ? '' : String(params.webhook)}
            onChange={(e) => set({ webhook: e.target.value ? Number(e.target.value) : null })}
          >
            <option value="">All webhooks</option>
            {webhooks.map((w) => (
              <option key={`${w.provider}-${w.webhook_id}`} value={w.webhook_id}>
                {w.provider} #{w.webhook_id} → {w.source ?? 'elsewhere'}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          Class
          <select
            value={params.class ?? ''}
            onChange={(e) =>
              set({ class: (e.target.value || null) as (typeof RECONCILIATION_CLASSES)[number] | null })
            }
          >
            <option value="">All classes</option>
            {RECONCILIATION_CLASSES.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <PickerTimeRange
          value={params}
          onChange={({ range, from, to }) => set({ range, from, to })}
          extra={[{ value: 'all', label: 'All time' }]}
        />
      </div>
      <div className="table-wrap">
        {list.isPending ? (
          <StateLoading label="Loading reconciliation" rows={5} />
        ) : list.isError ? (
          <StateError error={list.error} onRetry={() => list.refetch()} />
        ) : rows.length === 0 ? (
          <StateEmpty title="Nothing reconciled matches">
            Runs read the provider&apos;s delivery log every 5 minutes; Run now reads it at once.
          </StateEmpty>
        ) : (
          <>
            <TableReconciliation rows={rows} />
            {list.hasNextPage && (
              <div className="table-foot">
                <ButtonLoadMore list={list} />
              </div>
            )}
          </>
        )}
      </div>
    </>
  );
}
