'use client';

import { useInfiniteQuery } from '@tanstack/react-query';
import { useQueryStates } from 'nuqs';
import { useMemo } from 'react';
import { ButtonLoadMore } from '@/components/button-load-more';
import { FormSearch } from '@/components/form-search';
import { PickerTimeRange } from '@/components/picker-time-range';
import { SelectAuditAction } from '@/components/select-audit-action';
import { StateEmpty } from '@/components/state-empty';
import { StateError } from '@/components/state-error';
import { StateLoading } from '@/components/state-loading';
import { TableAudit } from '@/components/table-audit';
import { type AuditFilters, auditExportUrl, auditListOptions } from '@/lib/queries/audit';
import { resolveRange } from '@/lib/time-range';
import { auditParsers } from './search-params';

export function AuditClient() {
  const [params, set] = useQueryStates(auditParsers);
  // The range's start is fixed when the filter changes, so paging does not shift under the reader.
  const filters: AuditFilters = useMemo(() => {
    const r = resolveRange({ range: params.range, from: params.from, to: params.to });
    return {
      actor: params.actor ?? undefined,
      action: params.action ?? undefined,
      from: r.from?.toISOString(),
      // A preset stays open-ended so new entries show on refresh.
      to: r.custom ? r.to?.toISOString() : undefined,
    };
  }, [params.actor, params.action, params.range, params.from, params.to]);
  const list = useInfiniteQuery(auditListOptions(filters));
  const rows = list.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <>
      <div className="page-head">
        <h1>Audit log</h1>
        <div className="row">
          <a className="button" href={auditExportUrl(filters, 'csv')} download>
            Export CSV
          </a>
          <a className="button" href={auditExportUrl(filters, 'ndjson')} download>
            Export NDJSON
          </a>
          <button type="button" onClick={() => list.refetch()} disabled={list.isFetching}>
            {list.isFetching ? 'Refreshing…' : 'Refresh'}
          </button>
        </div>
      </div>
      <div className="toolbar" style={{ marginBottom: '0.75rem' }}>
        <FormSearch
          label="User"
          button="Filter"
          placeholder="email"
          initial={params.actor}
          onSearch={(actor) => set({ actor })}
        />
        <SelectAuditAction value={params.action} onChange={(action) => set({ action })} />
        <PickerTimeRange
          value={params}
          onChange={({ range, from, to }) => set({ range, from, to })}
          extra={[{ value: 'all', label: 'All time' }]}
        />
      </div>
      <div className="table-wrap">
        {list.isPending ? (
          <StateLoading label="Loading audit log" rows={5} />
        ) : list.isError ? (
          <StateError error={list.error} onRetry={() => list.refetch()} />
        ) : rows.length === 0 ? (
          <StateEmpty title="Nothing audited matches">
            Logins, toggles, retries, discards and changes to people appear here.
          </StateEmpty>
        ) : (
          <>
            <TableAudit rows={rows} />
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
